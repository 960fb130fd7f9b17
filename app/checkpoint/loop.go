package checkpoint

import (
	"context"
	"sync"
	"time"
)

// loop runs a step at every tick of an interval, on its own goroutine,
// until stopped: the Signer's and the Witnesses' background work.
type loop struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// start runs step every interval until stop.
func (l *loop) start(interval time.Duration, step func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				step(ctx)
			}
		}
	}()
}

// stop ends the loop and waits for a step in progress.
func (l *loop) stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.done.Wait()
}
