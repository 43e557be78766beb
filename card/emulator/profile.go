package emulator

import (
	"bytes"
	"crypto"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sync"
)

// Sizes of the cryptographic values the cards exchange (gb18240.md §2.2,
// §2.3, §2.6).
const (
	MACLen        = 4   // MAC1, MAC2, roll MAC, declaration MAC1
	FiscalCodeLen = 8   // 税控码
	SignatureLen  = 128 // 电子签名 of a daily record or a declaration
	ControlsLen   = 23  // plain fiscal EF01 control data
	CipherLen     = 24  // encrypted control data in UPDATE_CONTROLS
	// ControlsPlainLen is the plain text inside the 24-byte ciphertext:
	// control data[23] ‖ update counter[1] (see UPDATE_CONTROLS in doc.go).
	ControlsPlainLen = 24
	ChallengeLen     = 8  // GET CHALLENGE / INTERNAL AUTHENTICATE block
	RandomLen        = 4  // random of GET_REGISTER_NB
	CardNoLen        = 8  // fiscal-card number, machine number, taxpayer number
	RollLen          = 18 // invoice code[10] ‖ start u32 ‖ end u32
)

// Profile is the cryptography inside the cards. GB 18240 does not publish
// the real algorithms or keys (gb18240.md §2.6), so the emulator, the issuer
// and the Verifier take them from a Profile. A vendor holding the real
// algorithms implements this interface; nothing else changes.
//
// Every method must be safe for concurrent use and deterministic for the
// same inputs. Byte-slice arguments have the lengths of the constants above
// (the emulator checks them before calling); results must have them too.
// A method returns ErrUnknownKey (possibly wrapped) for a key it does not
// hold; the card then answers 9403 or 6A88.
type Profile interface {
	// Name identifies the profile; it is stored in saved card state so a
	// card is never reloaded under different cryptography.
	Name() string

	// RegistrationMAC1 is the MAC1 of GET_REGISTER_NB over the fiscal
	// card's random and number; the user card checks it in REGISTER_SIGN.
	RegistrationMAC1(fiscalCardNo, random []byte) ([]byte, error)
	// RegistrationMAC2 is the MAC2 the user card returns from REGISTER_SIGN;
	// the fiscal card checks it in TERMINAL_REGISTER.
	RegistrationMAC2(fiscalCardNo, random []byte) ([]byte, error)

	// RollMAC is the MAC of an invoice roll (code ‖ start ‖ end) the user
	// card hands out with DISTRIBUTE_INVOICE_NB and the fiscal card checks
	// in INPUT_INVOICE_NB. Rolls belong to a taxpayer, not to one machine.
	RollMAC(taxpayerNo, roll []byte) ([]byte, error)

	// EncryptControls and DecryptControls protect the fiscal EF01 control
	// data under key keyID of one fiscal card. The plain text is
	// ControlsPlainLen (24) bytes: the 23-byte control data ‖ the update
	// counter the card checks against replays. EncryptControls also takes
	// the 23 bytes alone (the TEST profile then puts 0x80 in the counter
	// byte, the padding it used before counters existed). DecryptControls
	// returns the 24 bytes; a profile returning only 23 carries no
	// counter, and the card then cannot refuse a replayed record. It fails
	// for a ciphertext that does not decrypt to well-formed data.
	EncryptControls(fiscalCardNo []byte, keyID byte, plain []byte) ([]byte, error)
	DecryptControls(fiscalCardNo []byte, keyID byte, ciphertext []byte) ([]byte, error)
	// ControlsMAC is the MAC2 over keyID ‖ ciphertext of UPDATE_CONTROLS.
	ControlsMAC(fiscalCardNo []byte, keyID byte, ciphertext []byte) ([]byte, error)

	// FiscalCode is the 8-byte 税控码 of one ISSUE_INVOICE data block (44
	// bytes, XOR included), chained with the previous invoice's code
	// (zeros for the first invoice of the card).
	FiscalCode(fiscalCardNo, previous, block []byte) ([]byte, error)

	// DeclarationMAC is the MAC1 of DECLARE_DUTY over the 70-byte
	// declaration ‖ card totals (8) ‖ status (1); the user card checks it in
	// DATA_COLLECT.
	DeclarationMAC(fiscalCardNo, data []byte) ([]byte, error)

	// Sign makes the 128-byte signature of a daily record or declaration;
	// VerifySignature checks one.
	Sign(fiscalCardNo, data []byte) ([]byte, error)
	VerifySignature(fiscalCardNo, data, signature []byte) error

	// AuthCryptogram is INTERNAL AUTHENTICATE of the fiscal card (and what
	// the check card expects in EXTERNAL AUTHENTICATE) for an 8-byte
	// challenge, under key keyID of the taxpayer.
	AuthCryptogram(taxpayerNo []byte, keyID byte, challenge []byte) ([]byte, error)
}

// UnblockProfile is implemented by a Profile that also holds the tax
// office's PIN-unblock key (税控卡解锁, 84 24 01 01). It is a separate
// interface so that profiles written before the command existed keep
// compiling; with a profile that lacks it the fiscal card answers 6A81.
type UnblockProfile interface {
	// UnblockMAC is the 4-byte MAC of PIN_UNBLOCK over the fiscal card's
	// number and the 8-byte new PIN.
	UnblockMAC(fiscalCardNo, newPIN []byte) ([]byte, error)
}

// ErrUnknownKey means the profile does not hold the key asked for (an
// unsupported key version or key id).
var ErrUnknownKey = errors.New("emulator: key not held by the crypto profile")

// ErrBadCiphertext means encrypted control data did not decrypt to
// well-formed plain text.
var ErrBadCiphertext = errors.New("emulator: control data ciphertext does not decrypt")

// ErrBadSignature means a 128-byte signature does not verify.
var ErrBadSignature = errors.New("emulator: signature does not verify")

// TestProfile is the documented TEST crypto profile. It is NOT the
// cryptography of real GB 18240 cards and its keys are derived from a public
// seed: never use it to protect anything.
//
// Algorithms (all keys derived from the seed, see derive):
//
//   - 4-byte MACs (MAC1, MAC2, roll MAC, controls MAC2, declaration MAC1):
//     ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC") with DES, padding
//     method 2 (80 00..), IV zero, 2-key (16-byte) key, leftmost 4 bytes.
//   - 税控码: 3DES (EDE, 2-key) CBC-MAC, padding method 2, the IV being the
//     previous 税控码, full 8-byte last block; so every code depends on the
//     whole chain before it.
//   - Control data: 3DES (EDE, 2-key) CBC, IV zero, over the 24 bytes
//     control data ‖ update counter (23 bytes given alone get 0x80 as
//     their 24th byte).
//   - Signatures: RSA-1024, PKCS #1 v1.5 with SHA-256. One key pair per
//     fiscal-card number, generated deterministically from the seed (primes
//     found by a SHA-256 counter stream) and cached inside the profile value.
//   - INTERNAL AUTHENTICATE: 3DES (EDE, 2-key) encryption of the 8-byte
//     challenge under a key per (taxpayer, key id).
//   - PIN unblock MAC (UnblockProfile): the 4-byte retail MAC above over
//     fiscal card number[8] ‖ new PIN[8], under a key per fiscal card
//     (label "unblock-mac").
//
// Key ids accepted for control data and authentication are those in
// KeyIDs (default 1 and 2); others give ErrUnknownKey.
type TestProfile struct {
	seed   []byte
	keyIDs []byte

	mu     sync.Mutex
	rsas   map[string]*rsa.PrivateKey
	blocks map[string][]cipher.Block // derived DES/3DES key schedules, bounded by maxBlocks
}

// maxBlocks bounds the key-schedule cache of a TestProfile.
const maxBlocks = 4096

// DefaultSeed is the seed of the TEST profile used when none is given.
const DefaultSeed = "gb18240 emulator TEST keys - do not ship"

// TestProfileDoNotShip returns the TEST profile for seed (DefaultSeed when
// empty). Two profiles with the same seed compute the same values. See
// TestProfile: it is for tests and demonstrations only.
func TestProfileDoNotShip(seed string, keyIDs ...byte) *TestProfile {
	if seed == "" {
		seed = DefaultSeed
	}
	if len(keyIDs) == 0 {
		keyIDs = []byte{1, 2}
	}
	return &TestProfile{seed: []byte(seed), keyIDs: append([]byte(nil), keyIDs...), rsas: map[string]*rsa.PrivateKey{}, blocks: map[string][]cipher.Block{}}
}

// Name returns "TEST-DO-NOT-SHIP/" followed by a short hash of the seed.
func (p *TestProfile) Name() string {
	h := sha256.Sum256(p.seed)
	return fmt.Sprintf("TEST-DO-NOT-SHIP/%X", h[:4])
}

// KeyIDs returns the key ids the profile holds.
func (p *TestProfile) KeyIDs() []byte { return append([]byte(nil), p.keyIDs...) }

func (p *TestProfile) hasKey(id byte) bool { return bytes.IndexByte(p.keyIDs, id) >= 0 }

// derive returns a 16-byte 2-key 3DES key: HMAC-SHA256(seed, label ‖ 0x00 ‖
// parts...) truncated to 16 bytes.
func (p *TestProfile) derive(label string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, p.seed)
	m.Write([]byte(label))
	m.Write([]byte{0})
	for _, part := range parts {
		m.Write(part)
	}
	return m.Sum(nil)[:16]
}

// schedules returns, cached, the 3DES cipher of the derived key (index 0)
// and the two single-DES ciphers of its halves (1 and 2) for retail MACs.
func (p *TestProfile) schedules(label string, parts ...[]byte) []cipher.Block {
	id := make([]byte, 0, 64)
	id = append(id, label...)
	for _, part := range parts {
		id = append(id, 0, byte(len(part)))
		id = append(id, part...)
	}
	p.mu.Lock()
	bs, ok := p.blocks[string(id)]
	p.mu.Unlock()
	if ok {
		return bs
	}
	k := p.derive(label, parts...)
	bs = []cipher.Block{tdes(k), sdes(k[:8]), sdes(k[8:16])}
	p.mu.Lock()
	if len(p.blocks) >= maxBlocks {
		clear(p.blocks)
	}
	p.blocks[string(id)] = bs
	p.mu.Unlock()
	return bs
}

func tdes(key16 []byte) cipher.Block {
	k := make([]byte, 0, 24)
	k = append(k, key16...)
	k = append(k, key16[:8]...)
	b, err := des.NewTripleDESCipher(k)
	if err != nil {
		panic("emulator: 3DES key of wrong length") // unreachable: keys are 16 bytes
	}
	return b
}

func sdes(key8 []byte) cipher.Block {
	b, err := des.NewCipher(key8)
	if err != nil {
		panic("emulator: DES key of wrong length") // unreachable: keys are 8 bytes
	}
	return b
}

// pad2 applies ISO/IEC 9797-1 padding method 2 to a multiple of 8 bytes.
func pad2(data []byte) []byte {
	out := make([]byte, 0, len(data)+8)
	out = append(out, data...)
	out = append(out, 0x80)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	return out
}

// RetailMAC computes the ISO/IEC 9797-1 MAC algorithm 3 of data under a
// 16-byte key (padding method 2, IV zero) and returns the full 8-byte block.
func RetailMAC(key16, data []byte) []byte { return retailMAC(key16, pad2(data)) }

// retailMAC is MAC algorithm 3 over data already padded to whole blocks.
func retailMAC(key16, m []byte) []byte {
	return retailMACWith(sdes(key16[:8]), sdes(key16[8:16]), m)
}

func retailMACWith(k1, k2 cipher.Block, m []byte) []byte {
	h := make([]byte, 8)
	for i := 0; i < len(m); i += 8 {
		subtle.XORBytes(h, h, m[i:i+8])
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h
}

func (p *TestProfile) mac4(label string, data []byte, div ...[]byte) []byte {
	bs := p.schedules(label, div...)
	return retailMACWith(bs[1], bs[2], pad2(data))[:MACLen]
}

// RegistrationMAC1 implements Profile.
func (p *TestProfile) RegistrationMAC1(fiscalCardNo, random []byte) ([]byte, error) {
	return p.mac4("register-mac1", cat(random, fiscalCardNo), fiscalCardNo), nil
}

// RegistrationMAC2 implements Profile.
func (p *TestProfile) RegistrationMAC2(fiscalCardNo, random []byte) ([]byte, error) {
	return p.mac4("register-mac2", cat(random, fiscalCardNo), fiscalCardNo), nil
}

// RollMAC implements Profile.
func (p *TestProfile) RollMAC(taxpayerNo, roll []byte) ([]byte, error) {
	return p.mac4("roll-mac", roll, taxpayerNo), nil
}

// EncryptControls implements Profile.
func (p *TestProfile) EncryptControls(fiscalCardNo []byte, keyID byte, plain []byte) ([]byte, error) {
	if !p.hasKey(keyID) {
		return nil, fmt.Errorf("%w: control key id %d", ErrUnknownKey, keyID)
	}
	buf := make([]byte, 0, CipherLen)
	switch len(plain) {
	case ControlsLen:
		buf = append(append(buf, plain...), 0x80)
	case ControlsPlainLen:
		buf = append(buf, plain...)
	default:
		return nil, fmt.Errorf("emulator: control data of %d bytes, want %d or %d", len(plain), ControlsLen, ControlsPlainLen)
	}
	cipher.NewCBCEncrypter(p.schedules("controls-enc", []byte{keyID}, fiscalCardNo)[0], make([]byte, 8)).CryptBlocks(buf, buf)
	return buf, nil
}

// DecryptControls implements Profile.
func (p *TestProfile) DecryptControls(fiscalCardNo []byte, keyID byte, ciphertext []byte) ([]byte, error) {
	if !p.hasKey(keyID) {
		return nil, fmt.Errorf("%w: control key id %d", ErrUnknownKey, keyID)
	}
	if len(ciphertext) != CipherLen {
		return nil, ErrBadCiphertext
	}
	buf := append([]byte(nil), ciphertext...)
	cipher.NewCBCDecrypter(p.schedules("controls-enc", []byte{keyID}, fiscalCardNo)[0], make([]byte, 8)).CryptBlocks(buf, buf)
	return buf, nil
}

// ControlsMAC implements Profile.
func (p *TestProfile) ControlsMAC(fiscalCardNo []byte, keyID byte, ciphertext []byte) ([]byte, error) {
	if !p.hasKey(keyID) {
		return nil, fmt.Errorf("%w: control key id %d", ErrUnknownKey, keyID)
	}
	return p.mac4("controls-mac", cat([]byte{keyID}, ciphertext), []byte{keyID}, fiscalCardNo), nil
}

// FiscalCode implements Profile.
func (p *TestProfile) FiscalCode(fiscalCardNo, previous, block []byte) ([]byte, error) {
	if len(previous) != FiscalCodeLen {
		return nil, fmt.Errorf("emulator: previous fiscal code of %d bytes", len(previous))
	}
	m := pad2(block)
	h := append([]byte(nil), previous...)
	c := p.schedules("fiscal-code", fiscalCardNo)[0]
	for i := 0; i < len(m); i += 8 {
		subtle.XORBytes(h, h, m[i:i+8])
		c.Encrypt(h, h)
	}
	return h, nil
}

// UnblockMAC implements UnblockProfile.
func (p *TestProfile) UnblockMAC(fiscalCardNo, newPIN []byte) ([]byte, error) {
	return p.mac4("unblock-mac", cat(fiscalCardNo, newPIN), fiscalCardNo), nil
}

// DeclarationMAC implements Profile.
func (p *TestProfile) DeclarationMAC(fiscalCardNo, data []byte) ([]byte, error) {
	return p.mac4("declaration-mac1", data, fiscalCardNo), nil
}

// AuthCryptogram implements Profile.
func (p *TestProfile) AuthCryptogram(taxpayerNo []byte, keyID byte, challenge []byte) ([]byte, error) {
	if !p.hasKey(keyID) {
		return nil, fmt.Errorf("%w: authentication key id %d", ErrUnknownKey, keyID)
	}
	if len(challenge) != ChallengeLen {
		return nil, fmt.Errorf("emulator: challenge of %d bytes, want %d", len(challenge), ChallengeLen)
	}
	out := make([]byte, ChallengeLen)
	p.schedules("auth", []byte{keyID}, taxpayerNo)[0].Encrypt(out, challenge)
	return out, nil
}

// Sign implements Profile.
func (p *TestProfile) Sign(fiscalCardNo, data []byte) ([]byte, error) {
	k, err := p.rsaKey(fiscalCardNo)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(data)
	return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
}

// VerifySignature implements Profile.
func (p *TestProfile) VerifySignature(fiscalCardNo, data, signature []byte) error {
	k, err := p.rsaKey(fiscalCardNo)
	if err != nil {
		return err
	}
	h := sha256.Sum256(data)
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], signature); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// PublicKey returns the RSA public key that signs for fiscalCardNo.
func (p *TestProfile) PublicKey(fiscalCardNo []byte) (*rsa.PublicKey, error) {
	k, err := p.rsaKey(fiscalCardNo)
	if err != nil {
		return nil, err
	}
	return &k.PublicKey, nil
}

// rsaKey returns the cached RSA-1024 key of a fiscal card, deriving it on
// first use.
func (p *TestProfile) rsaKey(fiscalCardNo []byte) (*rsa.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.rsas[string(fiscalCardNo)]; ok {
		return k, nil
	}
	k, err := deterministicRSA(p.derive("rsa-1024", fiscalCardNo))
	if err != nil {
		return nil, err
	}
	p.rsas[string(fiscalCardNo)] = k
	return k, nil
}

// stream is a SHA-256 counter-mode byte stream.
type stream struct {
	seed []byte
	ctr  uint64
}

func (s *stream) next(n int) []byte {
	out := make([]byte, 0, n+32)
	for len(out) < n {
		h := sha256.New()
		h.Write(s.seed)
		h.Write(binary.BigEndian.AppendUint64(nil, s.ctr))
		s.ctr++
		out = h.Sum(out)
	}
	return out[:n]
}

// deterministicRSA builds an RSA-1024 key (e = 65537) from a seed: each
// prime is the first 512-bit candidate of the stream, top two bits and low
// bit set, that passes ProbablyPrime(32) and has gcd(e, p-1) = 1.
func deterministicRSA(seed []byte) (*rsa.PrivateKey, error) {
	s := &stream{seed: seed}
	e := big.NewInt(65537)
	one := big.NewInt(1)
	prime := func() *big.Int {
		for {
			b := s.next(64)
			b[0] |= 0xC0
			b[63] |= 1
			c := new(big.Int).SetBytes(b)
			if !c.ProbablyPrime(32) {
				continue
			}
			if new(big.Int).Mod(new(big.Int).Sub(c, one), e).Sign() == 0 {
				continue
			}
			return c
		}
	}
	for {
		pp, q := prime(), prime()
		if pp.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(pp, q)
		phi := new(big.Int).Mul(new(big.Int).Sub(pp, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil || n.BitLen() != 1024 {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{pp, q}}
		k.Precompute()
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("emulator: derived RSA key invalid: %w", err)
		}
		return k, nil
	}
}

func cat(parts ...[]byte) []byte {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
