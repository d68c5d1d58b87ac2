package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/tiff"
)

// inspectJPEG reads the JPEG's dimensions from its frame header, refuses an
// oversized image before anything is allocated for its pixels, then decodes
// it in full, because only a full decode shows the scan data is intact.
func inspectJPEG(ctx context.Context, f *os.File, size int64, lim Limits) (Info, error) {
	cfg, err := jpeg.DecodeConfig(bufio.NewReader(io.NewSectionReader(f, 0, size)))
	if err != nil {
		return Info{}, decodeRefusal("JPEG", err)
	}
	if err := lim.checkSize(1, cfg.Width, cfg.Height); err != nil {
		return Info{}, err
	}
	err = serialDecode(ctx, func() error {
		_, err := jpeg.Decode(bufio.NewReader(io.NewSectionReader(f, 0, size)))
		return err
	})
	if err != nil {
		return Info{}, decodeRefusal("JPEG", err)
	}
	return Info{MediaType: JPEG, Pages: 1, Width: cfg.Width, Height: cfg.Height}, nil
}

// decodeRefusal turns a decoder's error into a refusal. The decoder's own
// words stay out of the message: they can carry values read from the file.
func decodeRefusal(kind string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var (
		ju jpeg.UnsupportedError
		pu png.UnsupportedError
		tu tiff.UnsupportedError
	)
	if errors.As(err, &ju) || errors.As(err, &pu) || errors.As(err, &tu) {
		return refusef(CodeUnsupportedEncoding,
			"The %s uses an encoding the registry cannot read. Save or scan it again as PDF, PNG or a baseline JPEG.", kind)
	}
	return refusef(CodeCorrupt, "The %s is damaged or incomplete and cannot be read. Upload it again, or scan the order again.", kind)
}

// withPage decodes page (1-based) of an image file and calls use with it,
// for rendering or OCR. The page is held to the default limits first:
// these callers may be handed a file Inspect never saw. use runs while the
// decode semaphore is held, so that the one large image in memory is the
// one being used; it must not block on anything slow, such as a client.
func withPage(ctx context.Context, path, mediaType string, page int, use func(image.Image) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	size := st.Size()
	lim := defaultLimits

	if mediaType == TIFF {
		tf, err := readTIFF(f, size, page, lim)
		if err != nil {
			return err
		}
		if len(tf.ifds) < page {
			return noSuchPage(page, len(tf.ifds))
		}
		return tf.decode(ctx, f, size, page, use)
	}
	if page != 1 {
		return noSuchPage(page, 1)
	}
	var (
		kind         = "JPEG"
		decodeConfig = jpeg.DecodeConfig
		decode       = jpeg.Decode
	)
	switch mediaType {
	case JPEG:
	case PNG:
		kind, decodeConfig, decode = "PNG", png.DecodeConfig, png.Decode
	default:
		return refusef(CodeUnsupportedType, "The registry cannot show %s.", describe(mediaType))
	}
	cfg, err := decodeConfig(bufio.NewReader(io.NewSectionReader(f, 0, size)))
	if err != nil {
		return decodeRefusal(kind, err)
	}
	if err := lim.checkSize(1, cfg.Width, cfg.Height); err != nil {
		return err
	}
	return serialDecode(ctx, func() error {
		img, err := decode(bufio.NewReader(io.NewSectionReader(f, 0, size)))
		if err != nil {
			return decodeRefusal(kind, err)
		}
		return use(img)
	})
}

func noSuchPage(page, pages int) error {
	if pages == 1 {
		return refusef(CodeNoSuchPage, "There is no page %d: the file has 1 page.", page)
	}
	return refusef(CodeNoSuchPage, "There is no page %d: the file has %d pages.", page, pages)
}
