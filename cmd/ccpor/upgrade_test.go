package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestServeOutdatedIndex: an index built by a release with another
// layout (index.Layout) is rebuilt when serve starts, searches answering
// 503 until then, never from the old terms, as the README's upgrade
// advice assumes.
func TestServeOutdatedIndex(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	if _, err := seed(ctx, db, 3, 300, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := index.Rebuild(ctx, dir, db, nil); err != nil {
		t.Fatal(err)
	}
	old, err := os.Readlink(filepath.Join(dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	bi, err := bleve.Open(filepath.Join(dir, old))
	if err != nil {
		t.Fatal(err)
	}
	// The layout key as index.Open writes it, holding an earlier layout.
	if err := bi.SetInternal([]byte("ccpor.layout"), []byte("2026-12-01: keyword lists indexed as one value each")); err != nil {
		t.Fatal(err)
	}
	if err := bi.Close(); err != nil {
		t.Fatal(err)
	}

	base := MustServeIndex(t, url, dir)
	token := MustUser(t, url, ccpor.RoleOfficer)
	mustSearchRebuilt(t, base, token)
	if now, _ := os.Readlink(filepath.Join(dir, "current")); now == old {
		t.Errorf("serve kept the generation of the old layout (%s)", old)
	}
	if _, err := os.Stat(filepath.Join(dir, old)); !os.IsNotExist(err) {
		t.Errorf("the old layout's generation was left behind: %v", err)
	}
}
