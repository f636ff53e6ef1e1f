package store

import "context"

// All drains a paged list: it asks for pages of MaxLimit, following each next
// cursor until the last page, so callers that need every item do not each
// write the cursor loop. The result is never nil (it encodes as [] in JSON).
func All[T any](ctx context.Context, list func(context.Context, Page) ([]T, string, error)) ([]T, error) {
	all := []T{}
	for p := (Page{Limit: MaxLimit}); ; {
		items, next, err := list(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		p.Cursor = next
	}
}
