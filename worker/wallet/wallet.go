// Package wallet owns the rewards-address specification: it parses a spec such as
// "0xA…:100,faucet:1,donate:10" into an ordered, weighted list of checked Ethereum
// addresses, and picks one address for each new node.
//
// It is pure: it must not read the database, the environment or the clock, and it never
// seeds its own randomness (callers pass a seeded *rand.Rand so picks are reproducible).
package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"golang.org/x/crypto/sha3"
)

// Faucet is the fixed faucet address that the name "faucet" resolves to. It is also the
// donate address when none is configured.
const Faucet = "0x00455d78f850b0358E8cea5be24d415E01E107CF"

// MaxWeight bounds a single weight so that the sum of all weights cannot overflow.
const MaxWeight = 1_000_000_000

// Entry is one address of a [Spec] with its relative weight (always at least 1).
type Entry struct {
	// Address is the resolved address in its EIP-55 checksummed form.
	Address string
	// Weight is the relative share of new nodes that get Address.
	Weight int
}

// Spec is a parsed rewards-address specification: addresses in the order they were given,
// each with a positive weight. Names ("faucet", "donate") are already resolved.
type Spec []Entry

// ErrChecksum is wrapped by the errors for a mixed-case address whose case does not match
// its EIP-55 checksum.
var ErrChecksum = errors.New("bad EIP-55 checksum")

// Parse parses a rewards-address spec. The spec is a single address or name, or a
// comma-separated list of name[:weight] parts (empty parts are skipped; the weight is split
// off at the last colon and defaults to 1). A name is "faucet" ([Faucet]), "donate" (the
// donate argument, or [Faucet] when donate is empty) or a 0x address with 40 hex digits;
// names are case-insensitive and surrounding whitespace is ignored.
//
// The donate argument is validated even when the spec does not mention "donate", so a bad
// configured donate address is reported as soon as any spec is checked against it.
func Parse(spec, donate string) (Spec, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("empty rewards address spec: want an address, \"faucet\", \"donate\" or a weighted list")
	}
	donateAddr := Faucet
	if d := strings.TrimSpace(donate); d != "" {
		a, err := CheckAddress(d)
		if err != nil {
			return nil, fmt.Errorf("donate address: %w", err)
		}
		donateAddr = a
	}
	var s Spec
	for part := range strings.SplitSeq(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		e, err := parsePart(part, donateAddr)
		if err != nil {
			return nil, err
		}
		s = append(s, e)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("no addresses in rewards address spec %q", spec)
	}
	return s, nil
}

// parsePart parses one name[:weight] part of a spec.
func parsePart(part, donate string) (Entry, error) {
	name, weight := part, 1
	if i := strings.LastIndex(part, ":"); i >= 0 {
		name = part[:i]
		w := strings.TrimSpace(part[i+1:])
		n, err := strconv.Atoi(w)
		if err != nil {
			return Entry{}, fmt.Errorf("invalid weight %q in %q: want a positive integer", w, strings.TrimSpace(part))
		}
		if n <= 0 {
			return Entry{}, fmt.Errorf("weight %d in %q is not positive", n, strings.TrimSpace(part))
		}
		if n > MaxWeight {
			return Entry{}, fmt.Errorf("weight %d in %q exceeds the maximum %d", n, strings.TrimSpace(part), MaxWeight)
		}
		weight = n
	}
	addr, err := resolve(name, donate)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Address: addr, Weight: weight}, nil
}

// resolve turns a name into a checksummed address.
func resolve(name, donate string) (string, error) {
	name = strings.TrimSpace(name)
	switch strings.ToLower(name) {
	case "faucet":
		return Faucet, nil
	case "donate":
		return donate, nil
	}
	if !isAddress(name) {
		return "", fmt.Errorf("invalid identifier %q: want \"faucet\", \"donate\" or an address 0x followed by 40 hex digits", name)
	}
	return CheckAddress(name)
}

// CheckAddress validates an Ethereum address and returns it in EIP-55 checksummed form.
// The address must be 0x followed by 40 hex digits. When the hex digits mix upper and
// lower case they must match the EIP-55 checksum (the error wraps [ErrChecksum] and shows
// the correct form); all-lower and all-upper addresses carry no checksum and are accepted.
func CheckAddress(addr string) (string, error) {
	if !isAddress(addr) {
		return "", fmt.Errorf("invalid address %q: want 0x followed by 40 hex digits", addr)
	}
	hexPart := addr[2:]
	want := Checksum(addr)
	if hexPart != strings.ToLower(hexPart) && hexPart != strings.ToUpper(hexPart) && addr != want {
		return "", fmt.Errorf("address %q: %w (mixed case must match it exactly; the checksummed form is %s)", addr, ErrChecksum, want)
	}
	return want, nil
}

// Checksum returns the EIP-55 mixed-case form of addr, which must be 0x followed by 40 hex
// digits in any case; anything else is returned unchanged. Each letter of the hex digits is
// upper-cased when the matching nibble of Keccak-256(lower-case hex digits) is 8 or more.
func Checksum(addr string) string {
	if !isAddress(addr) {
		return addr
	}
	lower := strings.ToLower(addr[2:])
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	sum := hex.EncodeToString(h.Sum(nil))
	out := []byte("0x" + lower)
	for i := range len(lower) {
		if c := lower[i]; c >= 'a' && c <= 'f' && sum[i] >= '8' {
			out[i+2] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// isAddress reports whether s matches ^0x[0-9a-fA-F]{40}$.
func isAddress(s string) bool {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if hex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'; !hex {
			return false
		}
	}
	return true
}

// String returns the canonical form of s: checksummed addresses joined by commas, each
// followed by ":weight" unless the weight is 1. Parsing it gives back s.
func (s Spec) String() string {
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.Address)
		if e.Weight != 1 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Weight))
		}
	}
	return b.String()
}

// Pick chooses an address with probability proportional to its weight, drawing from r so
// that a fixed seed gives a fixed sequence. A single-entry spec returns its address without
// consuming randomness. Entries with a non-positive weight (which Parse never produces) are
// never chosen, and a spec with nothing to choose returns "". r must not be nil when s has
// more than one entry.
func (s Spec) Pick(r *rand.Rand) string {
	if len(s) == 1 {
		return s[0].Address
	}
	var total int64
	for _, e := range s {
		total += int64(max(e.Weight, 0))
	}
	if total == 0 {
		return ""
	}
	n := r.Int64N(total)
	for _, e := range s {
		w := int64(max(e.Weight, 0))
		if n < w {
			return e.Address
		}
		n -= w
	}
	panic("unreachable: n is below the sum of the weights")
}
