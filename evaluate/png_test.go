package evaluate

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// TestEncodePNG: the chart encoder's files decode (with image/png) to the
// very pixels drawn.
func TestEncodePNG(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7 % 251)
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := encodePNG(&b, m); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != m.Bounds() {
		t.Fatalf("size %v, drawn %v", got.Bounds(), m.Bounds())
	}
	for y := range 200 {
		for x := range 300 {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := m.At(x, y).RGBA()
			if [4]uint32{r1, g1, b1, a1} != [4]uint32{r2, g2, b2, a2} {
				t.Fatalf("pixel %d,%d is %v, drawn %v", x, y, got.At(x, y), m.At(x, y))
			}
		}
	}
}
