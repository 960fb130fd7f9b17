package vcode

import (
	"net/url"
	"testing"
)

// TestUnescape: unescape decodes query values as net/url's QueryUnescape.
func TestUnescape(t *testing.T) {
	for _, s := range []string{"", "7KQ4M-XW9TR-2HDNP-C8VE6", "7KQ4M%2DXW9TR", "7kq4m+xw9tr", "%37KQ4M", "%e2%80%93", "%", "%4", "%zz", "a%2", "100%25"} {
		want, werr := url.QueryUnescape(s)
		got, ok := unescape(s)
		if ok != (werr == nil) || (ok && got != want) {
			t.Errorf("%q: %q %v, QueryUnescape gives %q %v", s, got, ok, want, werr)
		}
	}
	c, err := ParseLink("https://v.example/#code=7kq4m%20xw9tr+2hdnp%E2%80%93c8ve6")
	if err != nil || c.String() != "7KQ4M-XW9TR-2HDNP-C8VE6" {
		t.Errorf("escaped link: %v %v", c, err)
	}
}
