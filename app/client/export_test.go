package client

// Stats returns the pipeline's counters (nil before its first use).
func Stats(c *Client) map[string]int64 {
	c.mu.Lock()
	p := c.pipe
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	s := &p.stats
	return map[string]int64{
		"sent": s.sent.Load(), "resent": s.resent.Load(), "committed": s.committed.Load(),
		"refused": s.refused.Load(), "splits": s.splits.Load(), "lookups": s.lookups.Load(),
		"resyncs": s.resyncs.Load(), "streams": s.streams.Load(),
	}
}
