package msg

// en is English.
var en = map[string]string{
	"verdict.valid":          "VALID.",
	"verdict.revoked":        "REVOKED.",
	"verdict.not_valid":      "NOT VALID.",
	"verdict.no_document":    "(The receipt was checked without the document.)",
	"verdict.registered":     "This document was registered by {issuer} on {when}.",
	"verdict.confirmed":      "The registration was confirmed by {signers}, holding {share} of the voting power.",
	"verdict.not_revoked":    "It was not revoked as of {when}.",
	"verdict.revoked_on":     "It was revoked on {when} by {by}: {reason}.",
	"verdict.status_as_of":   "Status as of {when}.",
	"verdict.live_checked":   "Status checked live with {checked} of {tried} nodes.",
	"verdict.live_unchecked": "Whether it was revoked after that date could not be checked.",
	"verdict.live_disagree":  "Warning: the nodes disagree: according to {revoking} it is revoked, and according to {other} it is not, at the same or a later state.",
	"verdict.live_stale":     "Warning: {node} answers with an old status (height {height}; the newest is at height {newest}).",
	"verdict.live_failed":    "No valid answer from: {nodes}.",
	"verdict.trust":          "Trust bundle: SHA-256 fingerprint {fingerprint}.",

	"list.and":       " and ",
	"list.others":    "{count} other ministries",
	"who.governance": "decision of the consortium (proposal {id})",
	"who.agency":     "agency {id}",

	"time.date":       "{day} {month} {year}",
	"time.month.1":    "January",
	"time.month.2":    "February",
	"time.month.3":    "March",
	"time.month.4":    "April",
	"time.month.5":    "May",
	"time.month.6":    "June",
	"time.month.7":    "July",
	"time.month.8":    "August",
	"time.month.9":    "September",
	"time.month.10":   "October",
	"time.month.11":   "November",
	"time.month.12":   "December",
	"time.at":         "{date} at {time} UTC",
	"time.at_one":     "{date} at {time} UTC",
	"time.local":      "{time} {zone} local time",
	"time.local_date": "{date} {time} {zone} local time",
	"num.decimal":     ".",
	"num.percent":     "{n}%",

	"reason.malformed_receipt":         "The receipt file is damaged or is not a notary receipt, so it proves nothing.",
	"reason.wrong_chain":               "The receipt belongs to a different notary network than the one your trust bundle describes.",
	"reason.document_mismatch":         "The document does not match the receipt: it is not the registered document, or it has been changed.",
	"reason.proof_invalid":             "The receipt's proof that the document is recorded on the notary network does not check out.",
	"reason.signature_invalid":         "A ministry's signature in the receipt is not valid: the receipt has been altered or forged.",
	"reason.insufficient_signatures":   "The receipt is not signed by enough ministries: more than two thirds of the voting power must confirm it.",
	"reason.validator_set_not_reached": "The receipt is signed by validators that cannot be traced back to the consortium members in your trust bundle.",

	"revocation.superseded":      "superseded by a newer document",
	"revocation.issued-in-error": "issued in error",
	"revocation.fraud":           "obtained by fraud",
	"revocation.expired":         "its validity ended",
	"revocation.court-order":     "by court order",
	"revocation.other":           "other reason",

	"live.receipt":         "the receipt itself",
	"live.node":            "{node} ({error})",
	"live.err.timeout":     "did not answer within {seconds} s",
	"live.err.unreachable": "could not be reached",
	"live.err.http":        "answered with HTTP status {code}",
	"live.err.not_found":   "says it does not know this document",
	"live.err.busy":        "is busy or catching up",
	"live.err.too_large":   "sent more than {limit}",
	"live.err.malformed":   "did not send a status in the expected form",
	"live.err.mismatch":    "sent the status of another document or network",
	"live.err.not_valid":   "sent a status whose proof does not check out",

	"step.receipt_format":    "Receipt format",
	"step.chain_id":          "Notary network",
	"step.validator_chain":   "Validator changes",
	"step.anchor_checkpoint": "Registration block",
	"step.status_checkpoint": "Status block",
	"step.batch_record":      "Batch",
	"step.issuer_record":     "Issuing agency",
	"step.merkle_inclusion":  "Inclusion in the batch",
	"step.status":            "Revocation",
	"step.document":          "Document",
	"step.live_status":       "Live status",

	"cli.root.short": "check a notarized document; see and control who uses your data",
	"cli.root.long": `verifier checks documents registered on the GobTechLab Notary consortium
chain: a document, its receipt (*.receipt.json) and the consortium's trust
bundle (trust.json) are all it needs. It trusts no node, only the signatures
of more than two thirds of the voting power of validator sets that chain back
to the trust bundle.

  verifier verify DOCUMENT RECEIPT          check a document
  verifier code CODE [--file DOCUMENT]      check a document by its verification code
  verifier inspect RECEIPT                  show what a receipt claims (unverified)
  verifier trust show|fingerprint           the trust bundle in use and its fingerprint
  verifier version                          release, commit and CometBFT version

As a citizen, with your own key, talking to a node (--node):

  verifier citizen keygen [--out DIR]       create your citizen identity
  verifier consent grant|withdraw|list      manage your consents
  verifier accesses --trust TRUST           who obtained data about you, verified

As a witness of the consortium's log (an audit office, a university):

  verifier witness init|serve               cosign the log's checkpoints (docs/witness.md)

Exit codes of verify: 0 valid and not revoked, 3 valid but revoked, 1 not
valid, 2 usage error or unreadable file. Of the citizen commands: 0 done,
1 refused or not verified, 2 usage error, 4 node unreachable. Any command
interrupted by SIGINT (Ctrl-C) or SIGTERM stops at once with exit 130.
Inputs must be regular files: a named pipe, a device or a directory is
refused (exit 2). Texts follow --lang, else LC_ALL, LC_MESSAGES and LANG (es,
en, ca, gl, eu; Spanish by default). Every flag can also be set with
NOTARY_<FLAG>.`,
	"cli.verify.short": "check a document against its receipt",
	"cli.verify.long": `verify checks that DOCUMENT is the document the receipt RECEIPT proves was
registered on the chain of the trust bundle, and whether it was revoked. It
prints one paragraph for a citizen (or, with --output json, every step
checked and its result).

The trust bundle is looked for in this order: --trust, the NOTARY_TRUST
variable, {config}, and the one built into the program at release, if any.
Its SHA-256 fingerprint is printed, for comparison with the one the
consortium publishes.

A receipt carries the revocation status of the day it was fetched. To learn
whether the document was revoked since, verify asks the public nodes of the
trust bundle and those of --node, all at once, waiting at most {seconds} s
for each and reading at most 1 MB of each answer; every answer is verified
as the receipt itself is (signatures of more than two thirds of the voting
power). With --offline it uses no network and says it could not check.

Exit codes: 0 valid and not revoked, 3 valid but revoked (also when a node
proves a later revocation), 1 not valid, 2 usage error or unreadable file.`,
	"cli.flag.trust":   "the consortium's trust bundle (trust.json)",
	"cli.flag.node":    "URL of a public node to ask for the current status (repeatable)",
	"cli.flag.offline": "use no network: only the status the receipt carries",
	"cli.flag.lang":    "language of the texts: es, en, ca, gl or eu (default: from LANG, else Spanish)",
	"cli.flag.tz":      "time zone of local times, e.g. Europe/Madrid (default: the system's)",

	"cli.err.no_trust":      "No trust bundle found: give one with --trust, with the NOTARY_TRUST variable, or put it at {path}.",
	"cli.err.trust_read":    "The trust bundle {path} could not be read: {error}",
	"cli.err.trust_invalid": "The trust bundle {path} is not valid: {error}",
	"cli.err.receipt_read":  "The receipt {path} could not be read: {error}",
	"cli.err.document_read": "The document {path} could not be read: {error}",
	"cli.err.lang":          "Unknown language {value}: use es, en, ca, gl or eu.",
	"cli.err.node_url":      "--node {value}: not a valid http:// or https:// address.",
	"cli.err.offline_node":  "--offline and --node cannot be used together.",
	"cli.err.args":          "Give the document and its receipt: verifier verify DOCUMENT RECEIPT.",

	"cli.usage.usage":        "Usage:",
	"cli.usage.commands":     "Commands:",
	"cli.usage.flags":        "Flags:",
	"cli.usage.global_flags": "Global flags:",
	"cli.usage.more":         "Use \"{command} [command] --help\" for more about a command.",

	"verdict.code_no_document":  "(Checked by its verification code, without the document.)",
	"verdict.code_not_found":    "NOT FOUND. No document is registered under the verification code {code}.",
	"verdict.receipt_saved":     "Receipt saved in {path}.",
	"verdict.receipt_not_saved": "The receipt was not saved: the file is not the document registered under this code.",
	"code.err.empty":            "No verification code given.",
	"code.err.symbol":           "Character {position} of the code, {char}, is not used in verification codes.",
	"code.err.confusable":       "Character {position} of the code, {char}, is not used in verification codes (they never use 0, O, 1, I or L).",
	"code.err.length":           "The code has {count} characters; a verification code has {want} (spaces and hyphens not counted).",
	"code.err.check":            "The verification code is not right: a character was mistyped or two were swapped. Check it against the document.",
	"code.err.link":             "The link holds no verification code.",
	"cli.code.short":            "check a document's registration by its verification code",
	"cli.code.long": `code checks the registration of the document whose verification code is
CODE (as printed on it, grouped or not, or the link of its QR code). A
mistyped code is refused here, before anything is asked. The code never
leaves this computer: the nodes are asked by a key derived from it.

The public nodes of the trust bundle and those of --node are asked in
turn for the receipt of the document registered under the code; the first
receipt that verifies against the trust bundle (signatures of more than two
thirds of the voting power) gives the issuing agency's registered name, the
registration date and the status, and the other nodes are asked for the
current status, waiting at most {seconds} s for each.

With --file, it says whether that file is exactly the document registered
under the code, in the same sentences as verify; --save-receipt then writes
the document's full receipt, which verify accepts offline.

Exit codes: 0 valid and not revoked, 3 valid but revoked, 1 not valid (also:
the file is not the registered document), 5 no document is registered under
the code, 2 usage error, a mistyped code or unreadable file, 4 no node could
be asked.`,
	"cli.flag.file":            "the document to check against the registration (it is not sent anywhere)",
	"cli.flag.endpoint":        "URL of a public node to ask as well (repeatable)",
	"cli.flag.save_receipt":    "write the document's full receipt to this file",
	"cli.err.code_args":        "Give the verification code: verifier code CODE.",
	"cli.err.endpoint_url":     "--node {value}: not a valid http:// or https:// address.",
	"cli.err.no_endpoints":     "The trust bundle lists no public nodes to ask: give one with --node.",
	"cli.err.code_unreachable": "No node answered about the verification code: {nodes}.",
	"cli.err.receipt_write":    "The receipt {path} could not be written: {error}",

	"web.err_no_document":  "Choose the document you want to check.",
	"web.no_endpoints":     "The trust bundle lists no nodes to ask: the status is the one the receipt carries.",
	"web.page_title":       "Verify a registered document",
	"web.skip_link":        "Skip to the form",
	"web.intro":            "Check that a document was registered by a public body and whether it has been revoked. The document never leaves your computer: it is checked in this browser.",
	"web.language":         "Language",
	"web.document":         "Document",
	"web.document_hint":    "The file you want to check. It is not sent anywhere.",
	"web.receipt":          "Receipt",
	"web.receipt_hint":     "The registration receipt (a .receipt.json file) that comes with the document.",
	"web.drop_hint":        "You can also drop the document and its receipt here.",
	"web.chosen":           "Chosen: {name} ({size})",
	"web.none_chosen":      "No file chosen.",
	"web.receipt_info":     "Receipt of network {chain}, fingerprint {alg} {digest}.",
	"web.mode":             "Revocation status",
	"web.mode_online":      "Ask the consortium's nodes for the current status",
	"web.mode_offline":     "Offline: use only the status the receipt carries",
	"web.verify":           "Verify",
	"web.reset":            "Start again",
	"web.hashing":          "Computing the document's fingerprint…",
	"web.asking":           "Asking {n} nodes of the consortium…",
	"web.checking":         "Checking the signatures and proofs…",
	"web.result":           "Result",
	"web.offline_note":     "Offline: the status is the one the receipt carries; later revocations were not checked.",
	"web.offline_auto":     "No node could be reached: the status is the one the receipt carries.",
	"web.details":          "Technical details",
	"web.steps":            "Checks",
	"web.nodes":            "Nodes asked",
	"web.step_ok":          "ok",
	"web.step_failed":      "failed",
	"web.step_skipped":     "skipped",
	"web.step_not_checked": "not checked",
	"web.trust":            "Trust bundle",
	"web.fingerprint":      "Trust bundle fingerprint (SHA-256): {fp}",
	"web.trust_chain":      "Network {chain}, {n} validators.",
	"web.err_no_receipt":   "Choose the document's receipt.",
	"web.err_receipt":      "The file chosen as the receipt is not a notary receipt.",
	"web.err_trust":        "This page's trust bundle (trust.json) could not be loaded.",
	"web.err_core":         "The verifier could not be loaded in this browser.",
	"web.err_document":     "The document could not be read.",
	"web.err_verify":       "The check could not be completed: {error}",
	"web.node_timeout":     "no answer within {s} s",
	"web.node_failed":      "could not be reached",
	"web.footer":           "GobTechLab Notary receipt verifier. Once loaded, this page works offline.",

	// The web verifier's verification codes.
	"web.receipt_heading":     "With the document and its receipt",
	"web.code_heading":        "With a verification code",
	"web.code_intro":          "If the document bears a printed verification code or a QR code, type the code or open the QR code's link: you will see which public body registered it, when, and whether it still stands. The code never leaves this browser: the nodes are only asked for a hash of it.",
	"web.code":                "Verification code",
	"web.code_hint":           "20 characters, such as 7KQ4M-XW9TR-2HDNP-C8VE6. Hyphens and spaces are optional, and upper or lower case makes no difference.",
	"web.code_document":       "Document (optional)",
	"web.code_document_hint":  "If you have the document's file, add it to check that it is exactly the one registered. It is not sent anywhere.",
	"web.code_verify":         "Check the code",
	"web.code_err_empty":      "Type the verification code.",
	"web.code_err_symbol":     "Character {pos}, \"{char}\", is not used in verification codes.",
	"web.code_err_confusable": "Character {pos}, \"{char}\", is not used in verification codes: they never contain 0, O, 1, I or L.",
	"web.code_err_length":     "The code has {n} characters and must have {want} (spaces and hyphens not counted).",
	"web.code_err_check":      "The code is not correct: a character was mistyped or two were swapped. Please check it.",
	"web.code_err_link":       "The link holds no verification code.",
	"web.code_asking":         "Looking the code up on the consortium's nodes…",
	"web.code_not_found":      "No document is registered under this code. Check that you typed it correctly.",
	"web.code_unreachable":    "None of the consortium's nodes could be reached: a code can only be checked online.",
	"web.code_no_endpoints":   "The trust bundle lists no nodes to ask: a code cannot be checked without them.",
	"web.code_other_key":      "Node {node} answered with the record of another code, so its answer proves nothing.",
	"web.code_no_document":    "(The code was checked without the document.)",
	"web.step_code":           "Verification code",
	"web.code_agency":         "Registered by",
	"web.code_registered":     "Registration date",
	"web.code_status":         "Status",
	"web.code_not_revoked":    "In force: not recorded as revoked",
	"web.code_revoked_on":     "Revoked on {date}: {reason}",
	"web.download":            "Download the full receipt",
	"web.download_hint":       "Keep it with the document: with both, it can be checked later, offline too.",

	"verdict.registered_log":           "This document was registered by agency {agency} in block {height}, on {when}.",
	"verdict.log_checkpoint":           "It is proven in the consortium's evidence log up to the checkpoint of size {size}, signed by {signers}, holding {share} of the voting power.",
	"verdict.log_witnesses":            "The checkpoint is cosigned by independent witnesses: {witnesses}.",
	"verdict.log_no_status":            "Whether it was revoked is not part of this receipt: it can only be checked online, by asking the consortium's nodes.",
	"reason.receipt_v2_required":       "Your trust bundle accepts only receipts of version 2, tied to the consortium's evidence log; renew this receipt (verifier renew).",
	"reason.checkpoint_fork":           "The receipt contradicts the evidence log checkpoint of your trust bundle: the history it shows was rewritten.",
	"reason.insufficient_cosignatures": "The receipt's evidence log checkpoint is not cosigned by enough of the independent witnesses your trust bundle requires.",
	"step.trust_policy":                "Trust policy",
	"step.log_checkpoint":              "Evidence log checkpoint",
	"step.log_inclusion":               "Inclusion in the evidence log",
}
