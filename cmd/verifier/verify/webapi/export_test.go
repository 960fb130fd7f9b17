package webapi

import "github.com/gobtechlab/notary/cmd/verifier/verify/vcode"

// VerifyCoded is VerifyCode with the code's secrets given: the golden
// vectors' coded receipt was built from its salt and key, not from a code.
func VerifyCoded(req CodeRequest, salt, key []byte) CodeResponse {
	var sec vcode.Secrets
	copy(sec.Salt[:], salt)
	copy(sec.Key[:], key)
	return verifyCoded(req, sec)
}
