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

// TestDefaultDeferred: the pack without its topic and stance heads is
// the built-in pack but for them, and the function it comes with adds
// them, once.
func TestDefaultDeferred(t *testing.T) {
	want, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	p, heads, err := DefaultDeferred()
	if err != nil {
		t.Fatal(err)
	}
	if p.Model == nil || p.Model.Topics != nil || p.Model.Stance != nil {
		t.Fatal("DefaultDeferred decoded the model's heads at once")
	}
	if !reflect.DeepEqual(p.Model.Relevance, want.Model.Relevance) || !reflect.DeepEqual(p.Aliases, want.Aliases) {
		t.Fatal("the deferred pack's relevance head or rules differ from Default's")
	}
	if err := heads(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatal("the deferred pack with its heads differs from Default's")
	}
	topics := p.Model.Topics
	if err := heads(); err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("a second call: %v", err)
	}
	if reflect.ValueOf(p.Model.Topics).Pointer() != reflect.ValueOf(topics).Pointer() {
		t.Fatal("a second call decoded the heads again")
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
