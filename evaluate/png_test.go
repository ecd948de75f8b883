package evaluate

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// TestEncodePNG: the chart encoder's files decode (with image/png) to the
// very pixels drawn, for an opaque chart and for an image with
// transparency (written by image/png instead).
func TestEncodePNG(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7 % 251)
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	for _, opaque := range []bool{true, false} {
		if !opaque {
			copy(m.Pix, []byte{1, 2, 3, 7}) // premultiplied: colour at most alpha
		}
		var b bytes.Buffer
		if err := writePNG(&b, m); err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("opaque=%v: %v", opaque, err)
		}
		if !opaque {
			if got.Bounds() != m.Bounds() { // image/png's round trip through NRGBA rounds colours
				t.Errorf("size %v", got.Bounds())
			}
			continue
		}
		for y := range 200 {
			for x := range 300 {
				r1, g1, b1, a1 := got.At(x, y).RGBA()
				r2, g2, b2, a2 := m.At(x, y).RGBA()
				if [4]uint32{r1, g1, b1, a1} != [4]uint32{r2, g2, b2, a2} {
					t.Fatalf("opaque=%v: pixel %d,%d is %v, drawn %v", opaque, x, y, got.At(x, y), m.At(x, y))
				}
			}
		}
	}
}
