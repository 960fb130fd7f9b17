package gateway

import (
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// citizenRate bounds the citizens' transactions this node relays to the
// chain, all citizens together: one token bucket for the whole node
// (gateway.citizen_tx_rate_per_second and citizen_tx_burst). Citizens need
// no certificate, so whatever an address-based limit lets through from many
// addresses meets this one. A nil citizenRate allows everything.
type citizenRate struct {
	lim       *rate.Limiter
	perSecond float64
	burst     int
}

func newCitizenRate(perSecond float64, burst int) *citizenRate {
	if perSecond <= 0 {
		return nil
	}
	return &citizenRate{lim: rate.NewLimiter(rate.Limit(perSecond), burst), perSecond: perSecond, burst: burst}
}

// citizenSigned reports whether tx is a citizen's transaction, authorised by
// its signature alone.
func citizenSigned(tx *ledger.Tx) bool {
	switch tx.Body.Msg.(type) {
	case *notaryv1.TxBody_GrantConsent, *notaryv1.TxBody_WithdrawConsent:
		return true
	}
	return false
}

// admit takes a token for one citizen's transaction, or returns the
// ResourceExhausted error that names the setting and when to retry.
func (r *citizenRate) admit() error {
	if r == nil {
		return nil
	}
	now := time.Now()
	if r.lim.AllowN(now, 1) {
		return nil
	}
	res := r.lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return status.Errorf(codes.ResourceExhausted,
		"gateway limit citizen_tx_rate_per_second (%g/s, citizen_tx_burst %d) reached: this node relays at most that many citizens' transactions, all citizens together; retry in %s",
		r.perSecond, r.burst, wait.Round(time.Millisecond))
}
