package gitsource

import (
	"errors"
	"net"
	"sync/atomic"
)

// errBudgetExceeded is what a read returns once the clone has received more
// bytes than allowed. The caller recognises the condition through
// byteBudget.exceeded, not through error wrapping, because go-git does not
// always wrap the errors it gets from the network.
var errBudgetExceeded = errors.New("download size limit exceeded")

// byteBudget counts every byte received on every connection of one clone
// (TLS records, HTTP framing and pack data alike), so the cap holds no
// matter how the server frames or compresses its answer.
type byteBudget struct {
	limit int64
	used  atomic.Int64
	over  atomic.Bool
}

func (b *byteBudget) exceeded() bool { return b.over.Load() }

// countingConn charges reads against the budget and fails them once the
// budget is spent.
type countingConn struct {
	net.Conn
	budget *byteBudget
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.budget.over.Load() {
		return 0, errBudgetExceeded
	}
	n, err := c.Conn.Read(p)
	if c.budget.used.Add(int64(n)) > c.budget.limit {
		c.budget.over.Store(true)
		return n, errBudgetExceeded
	}
	return n, err
}
