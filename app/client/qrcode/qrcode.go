package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"

	goqr "github.com/piglig/go-qr"
)

// QuietZone is the light border around the symbol, in modules.
const QuietZone = 4

// SVGModulePixels is the SVG's nominal width and height per module, in CSS
// pixels, for viewers that need one; the drawing scales freely.
const SVGModulePixels = 8

// Modules is the side of link's symbol in modules, quiet zone included:
// the smallest PNG size, and the side of the SVG's viewBox.
func Modules(link string) (int, error) {
	q, err := encode(link)
	if err != nil {
		return 0, err
	}
	return q.Size() + 2*QuietZone, nil
}

func encode(link string) (*goqr.QrCode, error) {
	if link == "" {
		return nil, fmt.Errorf("qrcode: empty link")
	}
	q, err := goqr.EncodeText(link, goqr.Medium)
	if err != nil {
		return nil, fmt.Errorf("qrcode: encoding %d bytes: %w", len(link), err)
	}
	return q, nil
}

// PNG draws link's QR code as a PNG image size pixels square. Each module
// is size/Modules(link) pixels (rounded down), and the pixels left over
// widen the quiet zone evenly; a size below Modules(link) is refused.
func PNG(link string, size int) ([]byte, error) {
	q, err := encode(link)
	if err != nil {
		return nil, err
	}
	n := q.Size() + 2*QuietZone
	if size < n {
		return nil, fmt.Errorf("qrcode: %d pixels is too small for a symbol of %d modules", size, n)
	}
	scale := size / n
	off := (size-scale*n)/2 + QuietZone*scale
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}})
	for y := 0; y < q.Size(); y++ {
		for x := 0; x < q.Size(); x++ {
			if !q.Module(x, y) {
				continue
			}
			for py := off + y*scale; py < off+(y+1)*scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := off + x*scale; px < off+(x+1)*scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qrcode: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG draws link's QR code as an SVG image: a light square of Modules(link)
// units (the viewBox) and one path of the dark modules, a rectangle
// "M x y h w v 1 h -w z" for each horizontal run of them.
func SVG(link string) ([]byte, error) {
	q, err := encode(link)
	if err != nil {
		return nil, err
	}
	n := strconv.Itoa(q.Size() + 2*QuietZone)
	px := strconv.Itoa((q.Size() + 2*QuietZone) * SVGModulePixels)
	var b bytes.Buffer
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + n + ` ` + n +
		`" width="` + px + `" height="` + px + `" shape-rendering="crispEdges">` + "\n")
	b.WriteString(`<rect width="` + n + `" height="` + n + `" fill="#fff"/>` + "\n")
	b.WriteString(`<path fill="#000" d="`)
	first := true
	for y := 0; y < q.Size(); y++ {
		for x := 0; x < q.Size(); {
			if !q.Module(x, y) {
				x++
				continue
			}
			w := 1
			for q.Module(x+w, y) {
				w++
			}
			if !first {
				b.WriteByte(' ')
			}
			first = false
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+QuietZone, y+QuietZone, w, w)
			x += w
		}
	}
	b.WriteString(`"/>` + "\n</svg>\n")
	return b.Bytes(), nil
}
