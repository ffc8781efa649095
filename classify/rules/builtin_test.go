package rules

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "write default.gob from default.yaml")

// TestBuiltinEncoding checks that default.gob, which Default decodes, is
// the pack default.yaml loads to, and that it decodes to the same pack.
// With -update it writes default.gob again.
func TestBuiltinEncoding(t *testing.T) {
	fromYAML, err := Load(DefaultName, defaultPack)
	if err != nil {
		t.Fatalf("default.yaml: %v", err)
	}
	want, err := encodePack(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("default.gob", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote default.gob (%d bytes)", len(want))
		return
	}
	if !bytes.Equal(defaultGob, want) {
		t.Fatalf("default.gob is out of date with default.yaml: run `go generate ./classify/rules` (or `go test ./classify/rules -run TestBuiltinEncoding -update`)")
	}
	again, err := encodePack(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want) {
		t.Fatal("encoding the same pack twice gave different bytes")
	}
	got, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if !reflect.DeepEqual(got, fromYAML) {
		t.Fatal("the embedded encoding decodes to another pack than default.yaml loads to")
	}
}

// TestDecodePackRefusesGarbage checks that a damaged encoding is an error.
func TestDecodePackRefusesGarbage(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"cut short", defaultGob[:len(defaultGob)/2]},
		{"not gob", []byte("version: x\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodePack(tc.data); err == nil {
				t.Fatal("decoded a damaged encoding without an error")
			}
		})
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadDefaultYAML(b *testing.B) {
	for b.Loop() {
		if _, err := Load(DefaultName, defaultPack); err != nil {
			b.Fatal(err)
		}
	}
}
