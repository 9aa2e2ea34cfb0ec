package curator

import (
	"regexp"
	"testing"
)

func TestNewUUID(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewUUID(), NewUUID()
	if !v4.MatchString(a) || !v4.MatchString(b) || a == b {
		t.Fatalf("NewUUID gave %q and %q: want two different version 4 UUIDs", a, b)
	}
}

func TestLocalAddressStable(t *testing.T) {
	if LocalAddress() != LocalAddress() {
		t.Fatal("LocalAddress changed between calls")
	}
}
