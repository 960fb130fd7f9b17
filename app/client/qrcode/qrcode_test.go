package qrcode_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/gobtechlab/notary/app/client/qrcode"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

// links are verifier links of random codes under bases of several lengths.
func links(t *testing.T) []string {
	t.Helper()
	r := mrand.NewChaCha8([32]byte{27})
	var out []string
	for _, base := range []string{
		"https://v.example",
		"https://verify.notary.example.org/",
		"https://sede.administracion.example.gob.es/verificacion/notary/v1",
	} {
		for range 3 {
			c, err := vcode.New(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c.Link(base))
		}
	}
	return out
}

// decode reads the QR code in img with ZXing's decoder, as a scanner would
// (no hint that the image is a clean symbol), and returns its text and
// error correction level.
func decode(t *testing.T, img image.Image) (string, string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	level, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
	return res.GetText(), level
}

func checkLevel(t *testing.T, level string) {
	t.Helper()
	if level != "M" && level != "Q" && level != "H" {
		t.Errorf("error correction level %q, want M or higher", level)
	}
}

// TestPNG: the PNG decodes to the link, at the requested size, with a light
// quiet zone of at least 4 modules.
func TestPNG(t *testing.T) {
	for _, link := range links(t) {
		n, err := qrcode.Modules(link)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{n * 2, 300, 512, 1001} {
			t.Run(fmt.Sprintf("%d/%s", size, link), func(t *testing.T) {
				b, err := qrcode.PNG(link, size)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if img.Bounds() != image.Rect(0, 0, size, size) {
					t.Fatalf("bounds %v, want %dx%d", img.Bounds(), size, size)
				}
				quiet := qrcode.QuietZone * (size / n)
				for i := 0; i < size; i++ {
					for j := 0; j < quiet; j++ {
						for _, p := range [][2]int{{i, j}, {j, i}, {i, size - 1 - j}, {size - 1 - j, i}} {
							if gray(img.At(p[0], p[1])) != 0xff {
								t.Fatalf("dark pixel %v in the quiet zone", p)
							}
						}
					}
				}
				text, level := decode(t, img)
				if text != link {
					t.Fatalf("decoded %q, want %q", text, link)
				}
				checkLevel(t, level)
				if c, err := vcode.ParseLink(text); err != nil || c.Link("x") == "" {
					t.Fatalf("the decoded link gives no code: %v", err)
				}
			})
		}
	}
}

func gray(c color.Color) uint8 { return color.GrayModel.Convert(c).(color.Gray).Y }

func TestPNGRefused(t *testing.T) {
	link := "https://v.example/#code=7KQ4M-XW9TR-2HDNP-C8VE6"
	n, err := qrcode.Modules(link)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		link string
		size int
	}{
		{link, n - 1},
		{link, 0},
		{link, -5},
		{"", 400},
		{strings.Repeat("x", 3000), 4000},
	} {
		if _, err := qrcode.PNG(tc.link, tc.size); err == nil {
			t.Errorf("PNG(%d bytes, %d) accepted", len(tc.link), tc.size)
		}
	}
	if _, err := qrcode.PNG(link, n); err != nil {
		t.Errorf("one pixel per module: %v", err)
	}
	if _, err := qrcode.SVG(""); err == nil {
		t.Error("SVG of an empty link accepted")
	}
}

// svgDoc is the SVG's structure: the root, and its rect and paths.
type svgDoc struct {
	XMLName        xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	ViewBox        string   `xml:"viewBox,attr"`
	ShapeRendering string   `xml:"shape-rendering,attr"`
	Rect           []struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Path []struct {
		Fill string `xml:"fill,attr"`
		D    string `xml:"d,attr"`
	} `xml:"path"`
}

// TestSVG: the SVG is one path over a light square, viewBox in modules,
// crispEdges; its path, rasterised here, decodes to the link.
func TestSVG(t *testing.T) {
	for _, link := range links(t) {
		t.Run(link, func(t *testing.T) {
			b, err := qrcode.SVG(link)
			if err != nil {
				t.Fatal(err)
			}
			var doc svgDoc
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			n, err := qrcode.Modules(link)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("0 0 %d %d", n, n); doc.ViewBox != want {
				t.Errorf("viewBox %q, want %q", doc.ViewBox, want)
			}
			if doc.ShapeRendering != "crispEdges" {
				t.Errorf("shape-rendering %q", doc.ShapeRendering)
			}
			if len(doc.Path) != 1 || doc.Path[0].Fill != "#000" {
				t.Fatalf("want one black path, got %d", len(doc.Path))
			}
			if len(doc.Rect) != 1 || doc.Rect[0].Fill != "#fff" || doc.Rect[0].Width != strconv.Itoa(n) || doc.Rect[0].Height != strconv.Itoa(n) {
				t.Errorf("want one white square of %d, got %+v", n, doc.Rect)
			}
			const scale = 4
			img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
			for i := range img.Pix {
				img.Pix[i] = 0xff
			}
			rects, err := parsePath(doc.Path[0].D)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rects {
				if r.Min.X < qrcode.QuietZone || r.Min.Y < qrcode.QuietZone || r.Max.X > n-qrcode.QuietZone || r.Max.Y > n-qrcode.QuietZone {
					t.Fatalf("module %v in the quiet zone", r)
				}
				for y := r.Min.Y * scale; y < r.Max.Y*scale; y++ {
					for x := r.Min.X * scale; x < r.Max.X*scale; x++ {
						img.SetGray(x, y, color.Gray{})
					}
				}
			}
			text, level := decode(t, img)
			if text != link {
				t.Fatalf("decoded %q, want %q", text, link)
			}
			checkLevel(t, level)
		})
	}
}

// parsePath reads the path SVG writes: one subpath per run of dark
// modules, "M x y h w v 1 h -w z", the rectangle (x, y)-(x+w, y+1).
func parsePath(d string) ([]image.Rectangle, error) {
	var rects []image.Rectangle
	toks := tokens(d)
	const n = 10 // tokens of a subpath
	if len(toks) == 0 || len(toks)%n != 0 {
		return nil, fmt.Errorf("%d tokens, not a number of runs", len(toks))
	}
	for i := 0; i < len(toks); i += n {
		t := toks[i : i+n]
		var v [4]int
		for k, j := range []int{1, 2, 4, 8} {
			var err error
			if v[k], err = strconv.Atoi(t[j]); err != nil {
				return nil, fmt.Errorf("subpath %v: %w", t, err)
			}
		}
		x, y, w := v[0], v[1], v[2]
		if t[0] != "M" || t[3] != "h" || t[5] != "v" || t[6] != "1" || t[7] != "h" || t[9] != "z" || w <= 0 || v[3] != -w {
			return nil, fmt.Errorf("subpath %v is not a run of modules", t)
		}
		rects = append(rects, image.Rect(x, y, x+w, y+1))
	}
	return rects, nil
}

// tokens splits a path into command letters and integers.
func tokens(d string) []string {
	var out []string
	for i := 0; i < len(d); {
		switch c := d[i]; {
		case c == ' ' || c == ',':
			i++
		case c == '-' || '0' <= c && c <= '9':
			j := i + 1
			for j < len(d) && '0' <= d[j] && d[j] <= '9' {
				j++
			}
			out = append(out, d[i:j])
			i = j
		default:
			out = append(out, d[i:i+1])
			i++
		}
	}
	return out
}
