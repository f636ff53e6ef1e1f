// Package sqsqueue is the scan queue on Amazon SQS (aws-sdk-go-v2), the real
// queue.Queue. Transient failures are retried by the SDK's retryer
// (app/awsconf); what remains is returned wrapped so the caller can log it.
package sqsqueue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vegasec/vega/dispatch/queue"
)

// API is the part of the SQS client the queue uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, o ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, o ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Queue is one SQS queue.
type Queue struct {
	api API
	url string
}

var _ queue.Queue = (*Queue)(nil)

// New is the queue at url (VEGA_SCAN_QUEUE_URL).
func New(cfg aws.Config, url string) *Queue {
	return &Queue{api: sqs.NewFromConfig(cfg), url: url}
}

// NewWithAPI is New with a given client.
func NewWithAPI(api API, url string) *Queue { return &Queue{api: api, url: url} }

func (q *Queue) Send(ctx context.Context, body string, delay time.Duration) error {
	_, err := q.api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: &body,
		DelaySeconds: int32(min(delay, 15*time.Minute) / time.Second)})
	if err != nil {
		return fmt.Errorf("sqs send: %w", err)
	}
	return nil
}

func (q *Queue) Receive(ctx context.Context, n int, wait time.Duration) ([]queue.Message, error) {
	out, err := q.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q.url,
		MaxNumberOfMessages: int32(min(max(n, 1), 10)), WaitTimeSeconds: int32(min(wait, 20*time.Second) / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		return nil, fmt.Errorf("sqs receive: %w", err)
	}
	msgs := make([]queue.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs = append(msgs, queue.Message{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body),
			Receipt: aws.ToString(m.ReceiptHandle), ReceiveCount: n})
	}
	return msgs, nil
}

func (q *Queue) Extend(ctx context.Context, m queue.Message, visibility time.Duration) error {
	_, err := q.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &q.url,
		ReceiptHandle: &m.Receipt, VisibilityTimeout: int32(visibility / time.Second)})
	if err != nil {
		return fmt.Errorf("sqs change visibility: %w", err)
	}
	return nil
}

func (q *Queue) Delete(ctx context.Context, m queue.Message) error {
	_, err := q.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &m.Receipt})
	if err != nil {
		return fmt.Errorf("sqs delete: %w", err)
	}
	return nil
}

func (q *Queue) VisibilityTimeout(ctx context.Context) (time.Duration, error) {
	out, err := q.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return 0, fmt.Errorf("sqs get queue attributes: %w", err)
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("sqs: queue has no visibility timeout (%q)", out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	}
	return time.Duration(n) * time.Second, nil
}
