package wallet

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// FuzzParse: a rewards-address spec never panics the parser; one it accepts has a canonical form
// that parses back to it, and every address it can pick is a valid checksummed address.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed:3,faucet:1",
		"faucet",
		"donate:2, 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359:5",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
		":,:,0x",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed:99999999999999999999",
	} {
		f.Add(s, "")
		f.Add(s, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
	}
	f.Fuzz(func(t *testing.T, spec, donate string) {
		s, err := Parse(spec, donate)
		if err != nil {
			return
		}
		again, err := Parse(s.String(), donate)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", s.String(), spec, err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("%q parses to %v, its canonical form %q to %v", spec, s, s.String(), again)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 4 {
			a := s.Pick(r)
			if _, err := CheckAddress(a); err != nil {
				t.Fatalf("spec %q picked %q: %v", spec, a, err)
			}
		}
	})
}
