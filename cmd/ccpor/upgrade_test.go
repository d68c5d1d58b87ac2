package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest("POST", base+"/api/v1/search", strings.NewReader(`{"last": "ga"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if !strings.Contains(string(body), `"order_id"`) {
				t.Errorf("rebuilt index found nothing for \"ga\": %s", body)
			}
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("search while rebuilding: %d %s, want 503", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the index was not rebuilt within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if now, _ := os.Readlink(filepath.Join(dir, "current")); now == old {
		t.Errorf("serve kept the generation of the old layout (%s)", old)
	}
	if _, err := os.Stat(filepath.Join(dir, old)); !os.IsNotExist(err) {
		t.Errorf("the old layout's generation was left behind: %v", err)
	}
}
