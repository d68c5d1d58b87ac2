package scan

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash"
	"hash/crc32"
	"image/png"
	"io"
	"os"
)

// pngHeader is what a PNG's IHDR chunk says.
type pngHeader struct {
	width, height int
	depth         int // bits per sample
	colorType     int
	interlaced    bool
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// inspectPNG confirms a PNG without holding its pixels: it walks the chunks
// checking every CRC and inflates the image data to nowhere, counting bytes
// and checking each row's filter type. A PNG at the limits would take
// hundreds of megabytes to decode; this takes a few kilobytes.
func inspectPNG(ctx context.Context, f *os.File, size int64, lim Limits) (Info, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 64<<10)
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(br, sig); err != nil || !bytes.Equal(sig, pngSignature) {
		return Info{}, pngCorrupt()
	}
	c := &pngChunks{r: br, crc: crc32.NewIEEE()}
	if err := c.next(); err != nil || c.typ != "IHDR" || c.length != 13 {
		return Info{}, pngCorrupt()
	}
	ihdr := make([]byte, 13)
	if err := c.readAll(ihdr); err != nil {
		return Info{}, pngCorrupt()
	}
	h, ok := parseIHDR(ihdr)
	if !ok {
		return Info{}, pngCorrupt()
	}
	if err := lim.checkSize(1, h.width, h.height); err != nil {
		return Info{}, err
	}

	var sawPLTE, sawIDAT bool
	for {
		if err := ctx.Err(); err != nil {
			return Info{}, err
		}
		if err := c.next(); err != nil {
			return Info{}, pngCorrupt()
		}
		switch c.typ {
		case "IDAT":
			if sawIDAT || (h.colorType == 3 && !sawPLTE) {
				// IDAT chunks must be consecutive, and an indexed image
				// needs its palette before them.
				return Info{}, pngCorrupt()
			}
			sawIDAT = true
			if err := checkIDAT(c, h); err != nil {
				return Info{}, err
			}
		case "IEND":
			if !sawIDAT || c.length != 0 || c.skip() != nil {
				return Info{}, pngCorrupt()
			}
			return Info{MediaType: PNG, Pages: 1, Width: h.width, Height: h.height}, nil
		case "IHDR":
			return Info{}, pngCorrupt()
		case "PLTE":
			sawPLTE = true
			if err := c.skip(); err != nil {
				return Info{}, pngCorrupt()
			}
		default:
			if c.typ[0]&0x20 == 0 {
				// An unknown critical chunk changes how the image reads;
				// PNG decoders must refuse it, and so do we.
				return Info{}, decodeRefusal("PNG", png.UnsupportedError("chunk"))
			}
			if err := c.skip(); err != nil {
				return Info{}, pngCorrupt()
			}
		}
	}
}

func pngCorrupt() error { return decodeRefusal("PNG", errors.New("corrupt")) }

// parseIHDR reads the header and reports whether it describes an image
// the PNG specification allows.
func parseIHDR(b []byte) (pngHeader, bool) {
	w, hh := binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint32(b[4:8])
	h := pngHeader{depth: int(b[8]), colorType: int(b[9]), interlaced: b[12] == 1}
	if w == 0 || hh == 0 || w > 1<<31-1 || hh > 1<<31-1 || b[10] != 0 || b[11] != 0 || b[12] > 1 {
		return h, false
	}
	h.width, h.height = int(w), int(hh)
	ok := false
	switch h.colorType {
	case 0:
		ok = h.depth == 1 || h.depth == 2 || h.depth == 4 || h.depth == 8 || h.depth == 16
	case 3:
		ok = h.depth == 1 || h.depth == 2 || h.depth == 4 || h.depth == 8
	case 2, 4, 6:
		ok = h.depth == 8 || h.depth == 16
	}
	return h, ok
}

// rowsOf lists the image data as runs of rows of one length: the whole image
// when it is not interlaced, else each of the seven Adam7 passes.
func (h pngHeader) rowsOf() []rowRun {
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[h.colorType]
	bits := int64(channels * h.depth)
	rowLen := func(w int) int64 { return (int64(w)*bits + 7) / 8 }
	if !h.interlaced {
		return []rowRun{{rows: int64(h.height), length: 1 + rowLen(h.width)}}
	}
	var runs []rowRun
	for _, p := range [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		if h.width <= x0 || h.height <= y0 {
			continue // a small image has empty passes, which take no bytes
		}
		pw, ph := (h.width-x0+dx-1)/dx, (h.height-y0+dy-1)/dy
		runs = append(runs, rowRun{rows: int64(ph), length: 1 + rowLen(pw)})
	}
	return runs
}

// rowRun is rows rows of length bytes each, the first being the filter type.
type rowRun struct{ rows, length int64 }

// checkIDAT inflates the image data, which runs on across consecutive IDAT
// chunks, and checks it has exactly the rows the header promises. It leaves
// the chunk after the last IDAT read ahead.
func checkIDAT(c *pngChunks, h pngHeader) error {
	idat := &idatReader{c: c}
	zr, err := zlib.NewReader(idat)
	if err != nil {
		return pngCorrupt()
	}
	rc := &rowChecker{runs: h.rowsOf()}
	var want int64
	for _, r := range rc.runs {
		want += r.rows * r.length
	}
	n, err := io.Copy(rc, io.LimitReader(zr, want+1))
	if err != nil || n != want || rc.bad {
		return pngCorrupt()
	}
	// Whatever follows the zlib stream in the last IDAT is ignored, as
	// decoders do, but its CRC is still checked.
	if _, err := io.Copy(io.Discard, idat); err != nil {
		return pngCorrupt()
	}
	return nil
}

// rowChecker counts inflated bytes and checks each row's filter byte is one
// of the five PNG defines, as a decoder would.
type rowChecker struct {
	runs []rowRun
	run  int   // index into runs
	row  int64 // rows done in runs[run]
	pos  int64 // bytes done in the current row
	bad  bool
}

func (rc *rowChecker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		for rc.run < len(rc.runs) && rc.row == rc.runs[rc.run].rows {
			rc.run, rc.row = rc.run+1, 0
		}
		if rc.run == len(rc.runs) {
			return n, nil // surplus; the caller sees the count
		}
		if rc.pos == 0 && p[0] > 4 {
			rc.bad = true
		}
		step := min(int64(len(p)), rc.runs[rc.run].length-rc.pos)
		p = p[step:]
		if rc.pos += step; rc.pos == rc.runs[rc.run].length {
			rc.row, rc.pos = rc.row+1, 0
		}
	}
	return n, nil
}

// pngChunks walks a PNG's chunks, checking each CRC as its data is read.
type pngChunks struct {
	r       *bufio.Reader
	crc     hash.Hash32
	typ     string
	length  uint32 // data bytes of the current chunk
	left    uint32 // data bytes not yet read
	checked bool   // the CRC after the data has been read and was good
	pending bool   // the header of the chunk after this one has been read ahead
}

// next reads the header of the next chunk, or makes the one read ahead
// current.
func (c *pngChunks) next() error {
	if c.pending {
		c.pending = false
		return nil
	}
	var hdr [8]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return err
	}
	c.length = binary.BigEndian.Uint32(hdr[:4])
	c.typ = string(hdr[4:])
	if c.length > 1<<31-1 {
		return errors.New("png: chunk too long")
	}
	for _, b := range hdr[4:] {
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return errors.New("png: bad chunk type")
		}
	}
	c.left, c.checked = c.length, false
	c.crc.Reset()
	c.crc.Write(hdr[4:])
	return nil
}

// Read reads the current chunk's data; at its end it checks the CRC and
// answers io.EOF only when the CRC is good.
func (c *pngChunks) Read(p []byte) (int, error) {
	if c.left == 0 {
		if !c.checked {
			var sum [4]byte
			if _, err := io.ReadFull(c.r, sum[:]); err != nil {
				return 0, io.ErrUnexpectedEOF
			}
			if binary.BigEndian.Uint32(sum[:]) != c.crc.Sum32() {
				return 0, errors.New("png: bad CRC")
			}
			c.checked = true
		}
		return 0, io.EOF
	}
	if uint32(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	c.left -= uint32(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (c *pngChunks) readAll(p []byte) error {
	if _, err := io.ReadFull(c, p); err != nil {
		return err
	}
	return c.skip()
}

// skip reads the rest of the chunk, checking its CRC.
func (c *pngChunks) skip() error {
	_, err := io.Copy(io.Discard, c)
	return err
}

// idatReader reads the data of consecutive IDAT chunks as one stream. It
// reads ahead the header of the chunk after them and leaves it pending.
type idatReader struct {
	c    *pngChunks
	done bool
}

func (r *idatReader) Read(p []byte) (int, error) {
	for !r.done {
		n, err := r.c.Read(p)
		if n > 0 || err != io.EOF {
			return n, err
		}
		// This IDAT is used up and its CRC good: see what comes next.
		if err := r.c.next(); err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		if r.c.typ != "IDAT" {
			r.c.pending, r.done = true, true
		}
	}
	return 0, io.EOF
}
