package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
)

// internalMessage is all a client learns of an internal failure.
const internalMessage = "internal error"

// ledgerCodes maps registered ledger error codes to gRPC status codes. It is
// the one place where that mapping is made.
var ledgerCodes = map[uint32]codes.Code{}

func init() {
	set := func(c codes.Code, errs ...*ledger.Error) {
		for _, e := range errs {
			ledgerCodes[e.Code()] = c
		}
	}
	// The request itself is wrong: retrying it unchanged cannot succeed.
	set(codes.InvalidArgument,
		ledger.ErrMalformedTx, ledger.ErrNonCanonical, ledger.ErrTxTooLarge, ledger.ErrWrongChain,
		ledger.ErrBadSignature, ledger.ErrNoMessage, ledger.ErrInvalidField, ledger.ErrBadPublicKey,
		ledger.ErrEmptyBatch, ledger.ErrBatchTooLarge, ledger.ErrUnknownHashAlgorithm,
		ledger.ErrBadDigestLength, ledger.ErrDuplicateInBatch, ledger.ErrTextTooLong,
		ledger.ErrInvalidReason, ledger.ErrInvalidText, ledger.ErrUnknownCategory,
		ledger.ErrUnknownPurpose, ledger.ErrInvalidValidity, ledger.ErrInvalidProposal,
		ledger.ErrInvalidParams, ledger.ErrInvalidVote, ledger.ErrInvalidUpgrade, ledger.ErrInvalidGenesis,
		ledger.ErrUnknownQuery, ledger.ErrAccessHistory, ledger.ErrBadConfirmation,
		ledger.ErrUnorderedWindow, ledger.ErrBadCodeKeys, ledger.ErrRevokeTargets, ledger.ErrAlgorithmMismatch)
	// The signer may not do this.
	set(codes.PermissionDenied,
		ledger.ErrUnknownSigner, ledger.ErrUnauthorized, ledger.ErrSignerMismatch, ledger.ErrInactive,
		ledger.ErrNotIssuer, ledger.ErrSubjectMismatch, ledger.ErrNotConsentOwner,
		ledger.ErrNotMinistry, ledger.ErrNotCitizen, ledger.ErrNotEnrolled)
	// What the request names does not exist.
	set(codes.NotFound,
		ledger.ErrNotAnchored, ledger.ErrConsentNotFound, ledger.ErrMandateNotFound,
		ledger.ErrUnknownAgency, ledger.ErrProposalNotFound, ledger.ErrMinistryNotFound,
		ledger.ErrNotFound, ledger.ErrUpgradeNotFound)
	// What the request would create exists already.
	set(codes.AlreadyExists,
		ledger.ErrAlreadyAnchored, ledger.ErrAlreadyRevoked, ledger.ErrAlreadyVoted,
		ledger.ErrAgencyExists, ledger.ErrMinistryExists, ledger.ErrMandateExists,
		ledger.ErrKeyInUse, ledger.ErrConsentExists, ledger.ErrConfirmationUsed, ledger.ErrNonceUsed,
		ledger.ErrDuplicateCode)
	// The request is well formed but the state does not allow it now.
	set(codes.FailedPrecondition,
		ledger.ErrSequenceReplayed, ledger.ErrSequenceSkipped, ledger.ErrConsentWithdrawn,
		ledger.ErrConsentExpired, ledger.ErrConsentNotYetValid, ledger.ErrBasisSubject,
		ledger.ErrBasisRequester, ledger.ErrBasisProvider, ledger.ErrBasisCategory,
		ledger.ErrBasisPurpose, ledger.ErrMandateExpired, ledger.ErrMandateNotYetValid,
		ledger.ErrNoBasis, ledger.ErrProposalClosed, ledger.ErrUnsafeValidators, ledger.ErrConsentLimit,
		ledger.ErrTxExpired)
	// A height the node does not hold.
	set(codes.OutOfRange, ledger.ErrHeightUnavailable)
}

// CodeForLedger returns the gRPC status code of a ledger ABCI code (codespace
// "notary"): OK for 0, Internal for ledger.CodeInternal and for codes that
// are not registered. A registered code missing from the table above is a
// client's fault of some kind, never an internal one: FailedPrecondition.
func CodeForLedger(code uint32) codes.Code {
	switch code {
	case 0:
		return codes.OK
	case ledger.CodeInternal:
		return codes.Internal
	}
	if c, ok := ledgerCodes[code]; ok {
		return c
	}
	if _, ok := ledger.ErrorForCode(code); ok {
		return codes.FailedPrecondition
	}
	return codes.Internal
}

// resultStatus is the status of a transaction result: its code mapped, and
// its log as the message (redacted when internal).
func resultStatus(code uint32, codespace, log string) *status.Status {
	if code == 0 {
		return status.New(codes.OK, "")
	}
	if codespace != ledger.Codespace {
		// Not ours: CometBFT's own codes do not occur in FinalizeBlock
		// results of this application; treat as internal.
		return status.New(codes.Internal, internalMessage)
	}
	c := CodeForLedger(code)
	if c == codes.Internal {
		return status.New(codes.Internal, internalMessage)
	}
	return status.New(c, clip(log))
}

// toStatus turns an error of a handler into a gRPC status error: a status
// error passes through (its message clipped); context errors become Canceled or DeadlineExceeded;
// a registered ledger error gets its mapped code and its message; anything
// else (store failures, damaged databases, bugs) is logged and redacted.
func toStatus(log cmtlog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return clipStatus(err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "request deadline exceeded")
	}
	var before *abci.EarliestStateError
	if errors.As(err, &before) {
		// A state this node never held (joined by state sync) or pruned.
		return status.Error(codes.FailedPrecondition, clip(err.Error()))
	}
	var se *ledger.StoreError
	code := ledger.CodeOf(err)
	if errors.As(err, &se) || code == ledger.CodeInternal {
		log.Error("gateway: internal error", "method", method, "err", err)
		return status.Error(codes.Internal, internalMessage)
	}
	c := CodeForLedger(code)
	if c == codes.Internal {
		log.Error("gateway: internal error", "method", method, "err", err)
		return status.Error(codes.Internal, internalMessage)
	}
	return status.Error(c, clip(err.Error()))
}

// withDetails attaches protobuf messages to a status as google.rpc.Status
// details (nil messages are skipped).
func withDetails(st *status.Status, msgs ...proto.Message) *status.Status {
	p := st.Proto()
	for _, m := range msgs {
		if m == nil {
			continue
		}
		a, err := anypb.New(m)
		if err != nil {
			continue
		}
		p.Details = append(p.Details, a)
	}
	return status.FromProto(&spb.Status{Code: p.Code, Message: p.Message, Details: p.Details})
}

// Errorf-style helpers for the gateway's own refusals.
func invalidArg(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// maxQuoted is the most of one input an error message quotes.
const maxQuoted = 64

// quote quotes s for an error message (Go syntax): at most its first
// maxQuoted bytes, then an ellipsis and its length.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:maxQuoted]), len(s))
}

// maxMessageBytes bounds the message of every status the gateway returns
// and of every SubmitResponse.log: messages quote inputs (the gateway's at
// most maxQuoted bytes of each; the ledger's are cut here).
const maxMessageBytes = 1024

// clip cuts a message longer than maxMessageBytes, at a rune boundary, and
// says so.
func clip(msg string) string {
	if len(msg) <= maxMessageBytes {
		return msg
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (message cut at %d of %d bytes)", msg[:cut], cut, len(msg))
}

// clipStatus returns err with its status message clipped (code and details
// kept).
func clipStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok || len(st.Message()) <= maxMessageBytes {
		return err
	}
	p := st.Proto()
	return status.FromProto(&spb.Status{Code: p.Code, Message: clip(p.Message), Details: p.Details}).Err()
}
