package scan

import (
	"context"
	"encoding/binary"
	"image"
	"io"
	"os"

	"golang.org/x/image/tiff"
)

// tiffFile is what walking a TIFF's chain of image file directories (IFDs)
// learned: one IFD per page.
type tiffFile struct {
	order binary.ByteOrder
	ifds  []int64 // offset of each page's IFD
	sizes []image.Point
	more  bool // the chain goes on past the IFDs read
}

const (
	tagImageWidth  = 256
	tagImageLength = 257
	typeShort      = 3
	typeLong       = 4
	ifdEntryLen    = 12
)

// inspectTIFF walks every page's IFD, refusing too many pages or any page
// too big before a pixel is decoded, then decodes the first page to confirm
// the file reads. x/image/tiff decodes only the first page; the others are
// checked as far as their headers.
func inspectTIFF(ctx context.Context, f *os.File, size int64, lim Limits) (Info, error) {
	tf, err := readTIFF(f, size, lim.MaxPages, lim)
	if err != nil {
		return Info{}, err
	}
	if tf.more {
		return Info{}, refusef(CodeTooManyPages, "The file has more than %d pages, more than the registry accepts. Split the order into smaller files.", lim.MaxPages)
	}
	if err := tf.decode(ctx, f, size, 1, func(image.Image) error { return nil }); err != nil {
		return Info{}, err
	}
	return Info{MediaType: TIFF, Pages: len(tf.ifds), Width: tf.sizes[0].X, Height: tf.sizes[0].Y}, nil
}

// readTIFF reads the header and at most upto IFDs, with each page's
// dimensions held to lim. Every offset is checked against the file's size
// and each IFD may be visited once, so a hostile chain can neither loop nor
// make it read or allocate more than the file holds.
func readTIFF(r io.ReaderAt, size int64, upto int, lim Limits) (*tiffFile, error) {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, tiffCorrupt()
	}
	tf := &tiffFile{}
	switch string(hdr[:4]) {
	case "II*\x00":
		tf.order = binary.LittleEndian
	case "MM\x00*":
		tf.order = binary.BigEndian
	default:
		return nil, tiffCorrupt()
	}
	seen := make(map[int64]bool)
	off := int64(tf.order.Uint32(hdr[4:]))
	for off != 0 {
		if len(tf.ifds) == upto {
			tf.more = true
			break
		}
		if off < 8 || off+2 > size || seen[off] {
			return nil, tiffCorrupt()
		}
		seen[off] = true
		var cnt [2]byte
		if _, err := r.ReadAt(cnt[:], off); err != nil {
			return nil, tiffCorrupt()
		}
		n := int64(tf.order.Uint16(cnt[:]))
		if n == 0 || off+2+n*ifdEntryLen+4 > size {
			return nil, tiffCorrupt()
		}
		// At most 65535 entries of 12 bytes, and within the file: bounded.
		ifd := make([]byte, n*ifdEntryLen+4)
		if _, err := r.ReadAt(ifd, off+2); err != nil {
			return nil, tiffCorrupt()
		}
		w, h := tf.dimensions(ifd[:n*ifdEntryLen])
		page := len(tf.ifds) + 1
		if err := lim.checkSize(page, w, h); err != nil {
			return nil, err
		}
		tf.ifds = append(tf.ifds, off)
		tf.sizes = append(tf.sizes, image.Pt(w, h))
		off = int64(tf.order.Uint32(ifd[n*ifdEntryLen:]))
	}
	if len(tf.ifds) == 0 {
		return nil, tiffCorrupt()
	}
	return tf, nil
}

// dimensions reads ImageWidth and ImageLength from an IFD's entries; 0
// where one is missing or malformed, which checkSize refuses.
func (tf *tiffFile) dimensions(entries []byte) (w, h int) {
	for i := 0; i+ifdEntryLen <= len(entries); i += ifdEntryLen {
		e := entries[i : i+ifdEntryLen]
		tag, typ, count := tf.order.Uint16(e[0:2]), tf.order.Uint16(e[2:4]), tf.order.Uint32(e[4:8])
		if (tag != tagImageWidth && tag != tagImageLength) || count != 1 {
			continue
		}
		var v int
		switch typ {
		case typeShort:
			v = int(tf.order.Uint16(e[8:10]))
		case typeLong:
			v = int(tf.order.Uint32(e[8:12]))
		}
		if tag == tagImageWidth {
			w = v
		} else {
			h = v
		}
	}
	return w, h
}

// decode decodes page (1-based) of the file and calls use with it while
// holding the decode semaphore. x/image/tiff decodes the IFD the header
// points at, and TIFF offsets are absolute, so presenting it the file with
// the header's IFD offset changed to the page's decodes that page.
func (tf *tiffFile) decode(ctx context.Context, r io.ReaderAt, size int64, page int, use func(image.Image) error) error {
	pr := &pageReader{r: r, size: size}
	// The byte-order mark and magic number stay; only the offset changes.
	if _, err := r.ReadAt(pr.hdr[:4], 0); err != nil {
		return tiffCorrupt()
	}
	tf.order.PutUint32(pr.hdr[4:], uint32(tf.ifds[page-1]))
	return serialDecode(ctx, func() error {
		img, err := tiff.Decode(pr)
		if err != nil {
			return decodeRefusal("TIFF", err)
		}
		return use(img)
	})
}

func tiffCorrupt() error {
	return refusef(CodeCorrupt, "The TIFF is damaged or incomplete and cannot be read. Upload it again, or scan the order again.")
}

// pageReader is the file with its first 8 bytes replaced by hdr. It is an
// io.ReaderAt, which x/image/tiff reads through directly rather than
// buffering the whole file.
type pageReader struct {
	r    io.ReaderAt
	size int64
	hdr  [8]byte
	off  int64 // for Read
}

func (p *pageReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	if off < int64(len(p.hdr)) {
		copy(b[:n], p.hdr[off:])
	}
	return n, err
}

func (p *pageReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n, err := p.ReadAt(b, p.off)
	p.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
