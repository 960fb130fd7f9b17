// Package qrcode draws the QR code of a verifier link (vcode.Code.Link) for
// printing on a document: PNG(link, size) and SVG(link).
//
// The symbol is encoded at error correction level M, raised by the encoder
// to Q or H when that fits in the same symbol size, with a quiet zone of 4
// modules all round. The PNG is a two-colour image of the requested side,
// each module a whole number of pixels; the SVG is one <path> of the dark
// modules over a light background, its viewBox in modules and
// shape-rendering crispEdges, so that it scales to any print size.
//
// The encoding is done by github.com/piglig/go-qr, chosen because it is a
// maintained QR Code Model 2 encoder without dependencies beyond the
// standard library that exposes the module matrix; the images are drawn
// here from that matrix. The tests decode both images with
// github.com/makiuchi-d/gozxing, a port of ZXing (test-only).
package qrcode
