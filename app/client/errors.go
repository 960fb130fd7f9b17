package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// ErrClosed is returned for work given to a closed client.
var ErrClosed = errors.New("client: closed")

// ErrCodeUsed is returned for a document anchored under a verification
// code that is registered, or being anchored, for another document: a code
// goes on one document only. The chain's refusal, when there is one, is
// wrapped too (errors.Is(err, ledger.ErrDuplicateCode)).
var ErrCodeUsed = errors.New("client: verification code already used")

// TxError is a transaction the chain or the gateway refused: its notary code
// (0 when the gateway refused it before the chain saw it) and gRPC code.
type TxError struct {
	// Code is the notary ABCI code (ledger/errors.go), 0 if none.
	Code uint32
	// GRPC is the gRPC status code the refusal maps to.
	GRPC codes.Code
	// Log is the refusal's message.
	Log string
	// Height at which the transaction failed in a block; 0 if refused before.
	Height int64
	// TxHash of the refused transaction.
	TxHash []byte
}

// Error describes the refusal: where, why, and its codes.
func (e *TxError) Error() string {
	where := "refused"
	if e.Height > 0 {
		where = fmt.Sprintf("failed in block %d", e.Height)
	}
	if e.Code != 0 {
		return fmt.Sprintf("transaction %s: %s (code %d, %s)", where, e.Log, e.Code, e.GRPC)
	}
	return fmt.Sprintf("transaction %s: %s (%s)", where, e.Log, e.GRPC)
}

// GRPCStatus lets status.Code(err) and status.FromError see the gRPC code.
func (e *TxError) GRPCStatus() *status.Status { return status.New(e.GRPC, e.Log) }

// Is matches the registered ledger error of the same code, so that
// errors.Is(err, ledger.ErrUnauthorized) holds for a refusal with that code.
func (e *TxError) Is(target error) bool {
	var le *ledger.Error
	return errors.As(target, &le) && e.Code != 0 && le.Code() == e.Code
}

func txError(resp *notaryv1.SubmitResponse) *TxError {
	c := codes.Code(resp.GrpcCode)
	if c == codes.OK {
		c = codes.Unknown
	}
	return &TxError{Code: resp.Code, GRPC: c, Log: resp.Log, Height: resp.Height, TxHash: resp.TxHash}
}

// ErrUnknownOutcome is returned when the fate of a transaction could not be
// learned: it was sent, the connection failed, and by the time the client
// could ask, its sequence had been used and the node no longer remembered it.
// It may or may not have been committed: check the state it would change.
var ErrUnknownOutcome = errors.New("client: the outcome of the transaction is unknown")

// transient reports whether a gRPC code says that trying again later may
// succeed without changing the request.
func transient(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted, codes.ResourceExhausted:
		return true
	}
	return false
}

// IsUnavailable reports whether err says the node could not be reached or
// could not serve (Unavailable or DeadlineExceeded): the caller may retry
// later or use another node. Commands use it for their "unavailable" exit
// code.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var te *TxError
	if errors.As(err, &te) {
		return te.GRPC == codes.Unavailable || te.GRPC == codes.DeadlineExceeded
	}
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		c := gs.GRPCStatus().Code()
		return c == codes.Unavailable || c == codes.DeadlineExceeded
	}
	return false
}

// rpcError adds what was asked to a gRPC error, keeping its status.
func rpcError(what string, err error) error {
	if err == nil {
		return nil
	}
	return &callError{what: what, err: err}
}

type callError struct {
	what string
	err  error
}

// Error names the call and its status.
func (e *callError) Error() string {
	if st, ok := status.FromError(e.err); ok {
		return fmt.Sprintf("%s: %s (%s)", e.what, st.Message(), st.Code())
	}
	return fmt.Sprintf("%s: %v", e.what, e.err)
}

// Unwrap returns the gRPC error.
func (e *callError) Unwrap() error { return e.err }

// GRPCStatus lets status.Code see the call's status.
func (e *callError) GRPCStatus() *status.Status {
	st, _ := status.FromError(e.err)
	return st
}
