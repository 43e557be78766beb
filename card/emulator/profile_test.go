package emulator

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"errors"
	"testing"
)

// The classic ISO/IEC 9797-1 algorithm 3 vector (padding method 1, so the
// 24-byte message is not padded).
func TestRetailMACVector(t *testing.T) {
	k, _ := hex.DecodeString("0123456789ABCDEFFEDCBA9876543210")
	got := retailMAC(k, []byte("Now is the time for all "))
	if hex.EncodeToString(got) != "a1c72e74ea3fa9b6" {
		t.Fatalf("MAC % X", got)
	}
}

// With K1 = K2 the retail MAC is a plain single-DES CBC-MAC.
func TestRetailMACSingleKeyIsCBCMAC(t *testing.T) {
	k := []byte("8bytekey")
	data := []byte("GB 18240 retail MAC test data, 37 B.")
	b, _ := des.NewCipher(k)
	m := pad2(data)
	out := make([]byte, len(m))
	cipher.NewCBCEncrypter(b, make([]byte, 8)).CryptBlocks(out, m)
	if got := RetailMAC(append(bytes.Clone(k), k...), data); !bytes.Equal(got, out[len(out)-8:]) {
		t.Fatalf("retail MAC % X, CBC-MAC % X", got, out[len(out)-8:])
	}
	if got := pad2([]byte{1, 2, 3, 4, 5, 6, 7, 8}); len(got) != 16 || got[8] != 0x80 {
		t.Fatalf("padding of a full block: % X", got)
	}
}

// Golden values of the TEST profile with DefaultSeed: a change here breaks
// every saved card and every recorded 税控码, so it must be deliberate.
func TestTestProfileGolden(t *testing.T) {
	p := TestProfileDoNotShip("")
	no := []byte{0x11, 0, 0, 0, 0, 0, 0, 0x01}
	mac1, _ := p.RegistrationMAC1(no, []byte{1, 2, 3, 4})
	code, _ := p.FiscalCode(no, make([]byte, 8), make([]byte, 44))
	got := hex.EncodeToString(mac1) + " " + hex.EncodeToString(code) + " " + p.Name()
	const want = "ac04eade 1ec845320ce8bca4 TEST-DO-NOT-SHIP/D3BF0C8D"
	if got != want {
		t.Fatalf("golden values changed:\n got %s\nwant %s", got, want)
	}
}

func TestTestProfile(t *testing.T) {
	p, q := TestProfileDoNotShip("a"), TestProfileDoNotShip("a")
	r := TestProfileDoNotShip("b")
	no := []byte("12345678")
	m1, _ := p.RegistrationMAC1(no, []byte{1, 2, 3, 4})
	m2, _ := q.RegistrationMAC1(no, []byte{1, 2, 3, 4})
	m3, _ := r.RegistrationMAC1(no, []byte{1, 2, 3, 4})
	m4, _ := p.RegistrationMAC2(no, []byte{1, 2, 3, 4})
	if !bytes.Equal(m1, m2) || bytes.Equal(m1, m3) || bytes.Equal(m1, m4) || len(m1) != 4 {
		t.Fatalf("MACs % X % X % X % X", m1, m2, m3, m4)
	}
	// Control data round trip; a flipped ciphertext byte does not decrypt
	// to the same thing.
	plain := bytes.Repeat([]byte{0x42}, 23)
	ct, err := p.EncryptControls(no, 1, plain)
	if err != nil || len(ct) != 24 {
		t.Fatal(err)
	}
	back, err := q.DecryptControls(no, 1, ct)
	if err != nil || !bytes.Equal(back, append(bytes.Clone(plain), 0x80)) {
		t.Fatalf("decrypt of 23 bytes alone: % X %v, want them ‖ 80", back, err)
	}
	withCounter := append(bytes.Clone(plain), 7)
	ct7, err := p.EncryptControls(no, 1, withCounter)
	if err != nil || len(ct7) != 24 {
		t.Fatal(err)
	}
	if back, err = q.DecryptControls(no, 1, ct7); err != nil || !bytes.Equal(back, withCounter) {
		t.Fatalf("decrypt with counter: % X %v", back, err)
	}
	if _, err := p.EncryptControls(no, 1, plain[:22]); err == nil {
		t.Fatal("22 bytes of control data encrypted")
	}
	if back, err := p.DecryptControls(no, 2, ct); err == nil && bytes.Equal(back[:23], plain) {
		t.Fatal("decrypted under another key")
	}
	if _, err := p.EncryptControls(no, 3, plain); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("key 3: %v", err)
	}
	if _, err := p.AuthCryptogram(no, 3, make([]byte, 8)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("auth key 3: %v", err)
	}
	// Chained fiscal code: the previous code changes the result.
	c1, _ := p.FiscalCode(no, make([]byte, 8), make([]byte, 44))
	c2, _ := p.FiscalCode(no, c1, make([]byte, 44))
	if bytes.Equal(c1, c2) {
		t.Fatal("fiscal code not chained")
	}
	// Signatures: deterministic key per card, verifiable by another
	// profile value with the same seed, not by another seed.
	sig, err := p.Sign(no, []byte("daily"))
	if err != nil || len(sig) != 128 {
		t.Fatalf("sign: %d bytes, %v", len(sig), err)
	}
	if err := q.VerifySignature(no, []byte("daily"), sig); err != nil {
		t.Fatal(err)
	}
	if err := r.VerifySignature(no, []byte("daily"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other seed: %v", err)
	}
	if err := p.VerifySignature(no, []byte("daily!"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other data: %v", err)
	}
	pk, _ := p.PublicKey(no)
	if pk.N.BitLen() != 1024 || pk.E != 65537 {
		t.Fatalf("key %d bits e=%d", pk.N.BitLen(), pk.E)
	}
}

func BenchmarkDeriveRSA(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := deterministicRSA([]byte{byte(i), byte(i >> 8)}); err != nil {
			b.Fatal(err)
		}
	}
}
