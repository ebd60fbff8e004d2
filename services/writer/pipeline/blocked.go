package pipeline

import "sync"

// blockedState is why the writer cannot write (an error wrapping
// ErrCannotWrite), or nil while it can.
type blockedState struct {
	mu  sync.Mutex
	err error
}

// Blocked returns why the writer cannot write now: the last insert failed
// with an error wrapping ErrCannotWrite (the table no longer matches, say),
// and none succeeded since. Nil while it can write.
func (w *Writer) Blocked() error {
	w.blocked.mu.Lock()
	defer w.blocked.mu.Unlock()
	return w.blocked.err
}

// setBlocked records why the writer cannot write, or nil once it can.
func (w *Writer) setBlocked(err error) {
	w.blocked.mu.Lock()
	was := w.blocked.err
	w.blocked.err = err
	w.blocked.mu.Unlock()
	switch {
	case err != nil && was == nil:
		w.m.blocked.Set(1)
		w.log.Error("writer blocked: readings wait in the stream until the table takes them", "reason", err)
	case err == nil && was != nil:
		w.m.blocked.Set(0)
		w.log.Info("writer unblocked: the table takes rows again")
	}
}
