package vpcd_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

func TestAppendMessageGolden(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    []byte
	}{
		{"get ATR", []byte{vpcd.CtrlGetATR}, []byte{0x00, 0x01, 0x04}},
		{"SELECT TSAM01", []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'},
			[]byte{0x00, 0x0B, 0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}},
		{"SW 9000", []byte{0x90, 0x00}, []byte{0x00, 0x02, 0x90, 0x00}},
		{"256 bytes", bytes.Repeat([]byte{0xAA}, 256), append([]byte{0x01, 0x00}, bytes.Repeat([]byte{0xAA}, 256)...)},
	}
	for _, tt := range tests {
		got, err := vpcd.AppendMessage([]byte{0xFF}, tt.payload)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if want := append([]byte{0xFF}, tt.want...); !bytes.Equal(got, want) {
			t.Errorf("%s: got % X, want % X", tt.name, got, want)
		}
		back, err := vpcd.ReadMessage(bytes.NewReader(tt.want), nil)
		if err != nil || !bytes.Equal(back, tt.payload) {
			t.Errorf("%s: ReadMessage = % X, %v; want the payload back", tt.name, back, err)
		}
	}
}

func TestAppendMessageRejects(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want error
	}{{0, vpcd.ErrEmptyMessage}, {vpcd.MaxPayload + 1, vpcd.ErrPayloadTooLong}} {
		b, err := vpcd.AppendMessage([]byte{1, 2}, make([]byte, tt.n))
		var pe *vpcd.ProtocolError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Length != tt.n {
			t.Errorf("payload of %d: err %v, want %v in a *ProtocolError with Length %d", tt.n, err, tt.want, tt.n)
		}
		if !bytes.Equal(b, []byte{1, 2}) {
			t.Errorf("payload of %d: buffer changed to % X", tt.n, b)
		}
	}
	if _, err := vpcd.AppendMessage(nil, make([]byte, vpcd.MaxPayload)); err != nil {
		t.Errorf("payload of MaxPayload bytes: %v", err)
	}
}

func TestReadMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"clean end", nil, io.EOF},
		{"half a length", []byte{0x00}, vpcd.ErrTruncated},
		{"zero length", []byte{0x00, 0x00, 0x04}, vpcd.ErrEmptyMessage},
		{"short payload", []byte{0x00, 0x05, 0x00, 0xA4}, vpcd.ErrTruncated},
		{"length only", []byte{0x00, 0x01}, vpcd.ErrTruncated},
	}
	for _, tt := range tests {
		_, err := vpcd.ReadMessage(bytes.NewReader(tt.stream), nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == vpcd.ErrTruncated && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: %v does not unwrap to io.ErrUnexpectedEOF", tt.name, err)
		}
	}
}

func TestReadMessageReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 16)
	got, err := vpcd.ReadMessage(bytes.NewReader([]byte{0, 2, 0x90, 0x00}), buf)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &buf[:1][0] {
		t.Error("a payload that fits was not read into buf")
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x04})
	f.Add([]byte{0x00, 0x00})
	f.Add([]byte{0xFF, 0xFF, 0x00})
	f.Add([]byte{0x00, 0x05, 0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		var framed []byte
		for {
			msg, err := vpcd.ReadMessage(r, nil)
			if err != nil {
				var pe *vpcd.ProtocolError
				if err != io.EOF && !errors.As(err, &pe) {
					t.Fatalf("untyped error %v", err)
				}
				break
			}
			if len(msg) == 0 {
				t.Fatal("empty message returned without error")
			}
			if framed, err = vpcd.AppendMessage(framed, msg); err != nil {
				t.Fatalf("re-framing a read message: %v", err)
			}
		}
		if !bytes.Equal(framed, stream[:len(framed)]) {
			t.Fatal("re-framed messages differ from the stream they were read from")
		}
	})
}
