// Package events carries access events (a document was viewed or
// downloaded) from the request path to their consumers through a Kafka
// topic: Producer publishes them without ever blocking or failing a
// request, Consumer reads them in a consumer group in batches per
// partition, and StartBroker runs franz-go's in-process broker (kfake) for
// development and the embedded mode. It knows nothing of documents or
// counters: it moves Access values.
package events

import "time"

// Access is one read of a document, or Count reads aggregated into one
// event (nginx reports its hot tier's hits that way).
type Access struct {
	DocumentID string    `json:"document_id"`
	Kind       string    `json:"kind"` // view | download
	Bytes      int64     `json:"bytes"`
	At         time.Time `json:"at"`
	Instance   string    `json:"instance,omitempty"`
	// Count is how many accesses the event stands for; 0 means 1.
	Count int64 `json:"count,omitempty"`
	// Reader is set on reads the audit log records (content of a
	// non-public document, a share link's download); nil on the others,
	// which stay anonymous.
	Reader *Reader `json:"reader,omitempty"`
}

// Reader is who read a document and what the document was at the time:
// what an audit entry of the read needs.
type Reader struct {
	ActorID      string `json:"actor_id"`
	IP           string `json:"ip,omitempty"`
	Visibility   string `json:"visibility"`
	DepartmentID string `json:"department_id,omitempty"` // the document's
	// ShareID is set on a read through a share link (the audit log records
	// it as the share's download, whatever the visibility).
	ShareID string `json:"share_id,omitempty"`
}

// N is the number of accesses the event stands for.
func (a Access) N() int64 {
	if a.Count <= 0 {
		return 1
	}
	return a.Count
}

// Record is an Access at its position in the topic.
type Record struct {
	Partition int32
	Offset    int64
	Access    Access
}
