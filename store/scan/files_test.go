package scan

// Builders for the files the tests feed the package. Every file is made
// here, at test time: small, exact, and with the one flaw a test wants.

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// MustWriteFile writes data to a new file named name in a temporary
// directory and returns its path.
func MustWriteFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// grayImage is a w × h image of one gray level.
func grayImage(w, h int, level uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = level
	}
	return img
}

// wordImage is word in 64 px Go Bold, black on white, with a margin.
func wordImage(tb testing.TB, word string) *image.Gray {
	tb.Helper()
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		tb.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 64, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		tb.Fatal(err)
	}
	defer face.Close()
	const margin = 60
	w := font.MeasureString(face, word).Ceil()
	img := grayImage(w+2*margin, 64+2*margin, 255)
	d := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(margin, margin+52)}
	d.DrawString(word)
	return img
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// withJPEGComment puts a COM segment holding text right after the SOI.
func withJPEGComment(jpg []byte, text string) []byte {
	seg := []byte{0xFF, 0xFE, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(text)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, text...)
	return append(out, jpg[2:]...)
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}

func pngIHDR(w, h uint32, depth, colorType, interlace byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, w)
	b = binary.BigEndian.AppendUint32(b, h)
	return pngChunk("IHDR", append(b, depth, colorType, 0, 0, interlace))
}

func zlibBytes(raw []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	return z.Bytes()
}

// handPNG builds a gray PNG (colour type 0) of depth 1 or 8 by hand, which
// Go's encoder cannot: 1-bit gray and Adam7 interlacing. on(x, y) says
// which pixels are white. dropRows drops rows from the end of the image data.
func handPNG(w, h int, depth byte, interlace bool, on func(x, y int) bool, dropRows int) []byte {
	passes := [][4]int{{0, 0, 1, 1}}
	if interlace {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	var raw []byte
	for _, p := range passes {
		for y := p[1]; y < h; y += p[3] {
			var row []byte
			var acc byte
			nbits := 0
			for x := p[0]; x < w; x += p[2] {
				if depth == 8 {
					v := byte(0)
					if on(x, y) {
						v = 255
					}
					row = append(row, v)
					continue
				}
				acc <<= 1
				if on(x, y) {
					acc |= 1
				}
				if nbits++; nbits == 8 {
					row, acc, nbits = append(row, acc), 0, 0
				}
			}
			if nbits > 0 {
				row = append(row, acc<<(8-nbits))
			}
			if len(row) > 0 {
				raw = append(raw, 0)
				raw = append(raw, row...)
			}
		}
	}
	if dropRows > 0 {
		rowLen := len(raw) / h
		raw = raw[:len(raw)-dropRows*rowLen]
	}
	il := byte(0)
	if interlace {
		il = 1
	}
	out := append([]byte{}, pngSignature...)
	out = append(out, pngIHDR(uint32(w), uint32(h), depth, 0, il)...)
	out = append(out, pngChunk("IDAT", zlibBytes(raw))...)
	return append(out, pngChunk("IEND", nil)...)
}

func checker(x, y int) bool { return (x/3+y/3)%2 == 0 }

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// buildTIFF writes each image as one uncompressed 8-bit gray page, the IFDs
// chained in order, in the byte order given.
func buildTIFF(order byteOrder, pages ...*image.Gray) []byte {
	var b []byte
	if order == binary.LittleEndian {
		b = []byte("II*\x00")
	} else {
		b = []byte("MM\x00*")
	}
	b = order.AppendUint32(b, 0)
	next := 4 // where the offset of the next IFD goes
	for _, img := range pages {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		data := len(b)
		b = append(b, img.Pix...)
		if len(b)%2 == 1 {
			b = append(b, 0)
		}
		order.PutUint32(b[next:], uint32(len(b)))
		b = appendIFD(order, b, w, h, data, w*h)
		next = len(b) - 4
	}
	return b
}

// appendIFD appends one IFD, its entries sorted by tag as TIFF requires,
// and a zero next-IFD offset.
func appendIFD(order byteOrder, b []byte, w, h, offset, count int) []byte {
	const short, long = 3, 4
	entries := [][3]int{
		{256, long, w}, {257, long, h}, {258, short, 8}, {259, short, 1}, {262, short, 1},
		{273, long, offset}, {277, short, 1}, {278, long, h}, {279, long, count},
	}
	b = order.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = order.AppendUint16(b, uint16(e[0]))
		b = order.AppendUint16(b, uint16(e[1]))
		b = order.AppendUint32(b, 1)
		if e[1] == short {
			b = order.AppendUint16(b, uint16(e[2]))
			b = order.AppendUint16(b, 0)
		} else {
			b = order.AppendUint32(b, uint32(e[2]))
		}
	}
	return order.AppendUint32(b, 0)
}

// hugeTIFF is a header and IFD claiming a w × h page, with no pixels.
func hugeTIFF(w, h int) []byte {
	b := binary.LittleEndian.AppendUint32([]byte("II*\x00"), 8)
	return appendIFD(binary.LittleEndian, b, w, h, 8, w*h)
}

// pdfDoc builds a PDF with a correct cross-reference table: objects are
// numbered from 1 in the order added, object 1 being the catalog.
type pdfDoc struct{ objs [][]byte }

func (d *pdfDoc) add(body string) int {
	d.objs = append(d.objs, []byte(body))
	return len(d.objs)
}

// addStream adds a stream object whose dictionary holds dict and /Length.
func (d *pdfDoc) addStream(dict string, data []byte) int {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< %s /Length %d >>\nstream\n", dict, len(data))
	b.Write(data)
	b.WriteString("\nendstream")
	d.objs = append(d.objs, b.Bytes())
	return len(d.objs)
}

// bytes writes the file; trailer is added to the trailer dictionary.
func (d *pdfDoc) bytes(trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(d.objs))
	for i, o := range d.objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		b.Write(o)
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(d.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(d.objs)+1, trailer, xref)
	return b.Bytes()
}

// pagesPDF is a PDF of 300 × 400 pt pages, each filled with one gray level
// (0 black, 1 white); catalog is added to the catalog dictionary, and the
// objects in extra follow the pages.
func pagesPDF(levels []float64, catalog string, extra ...string) *pdfDoc {
	d := &pdfDoc{}
	d.add("<< /Type /Catalog /Pages 2 0 R " + catalog + " >>")
	var kids []string
	first := 3 + len(extra)
	for i := range levels {
		kids = append(kids, fmt.Sprintf("%d 0 R", first+2*i))
	}
	d.add(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(levels)))
	for _, e := range extra {
		d.add(e)
	}
	for i, l := range levels {
		d.add(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents %d 0 R >>", first+2*i+1))
		d.addStream("", fmt.Appendf(nil, "%.2f g 0 0 300 400 re f", l))
	}
	return d
}

// imagePDF is a one-page PDF showing a gray JPEG at 150 dpi.
func imagePDF(jpg []byte, w, h int) []byte {
	d := &pdfDoc{}
	d.add("<< /Type /Catalog /Pages 2 0 R >>")
	d.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	pw, ph := float64(w)*72/150, float64(h)*72/150
	d.add(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>", pw, ph))
	d.addStream("", fmt.Appendf(nil, "q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q", pw, ph))
	d.addStream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpg)
	return d.bytes("")
}

// encryptedPDF is a one-page PDF protected by the user password "secret"
// with the standard security handler, revision 2 (40-bit RC4): enough for
// poppler to ask for the password. Its strings are left in the clear,
// which no reader gets far enough to notice.
func encryptedPDF() []byte {
	pad := []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")
	padded := func(pw string) []byte { return append([]byte(pw), pad...)[:32] }
	arc4 := func(key, data []byte) []byte {
		c, _ := rc4.NewCipher(key)
		out := make([]byte, len(data))
		c.XORKeyStream(out, data)
		return out
	}
	id := []byte("0123456789abcdef")
	ownerKey := md5.Sum(padded("owner"))
	o := arc4(ownerKey[:5], padded("secret"))
	var p int32 = -4 // every permission
	h := md5.New()
	h.Write(padded("secret"))
	h.Write(o)
	h.Write(binary.LittleEndian.AppendUint32(nil, uint32(p)))
	h.Write(id)
	u := arc4(h.Sum(nil)[:5], pad)

	d := pagesPDF([]float64{0.5}, "")
	enc := d.add(fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /O <%x> /U <%x> /P %d >>", o, u, p))
	return d.bytes(fmt.Sprintf("/Encrypt %d 0 R /ID [<%x> <%x>]", enc, id, id))
}

// mean is the average gray level of an image, 0..255.
func mean(img image.Image) float64 {
	var sum float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}
