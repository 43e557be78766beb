// Package emulator is an in-process implementation of the three GB 18240.2
// cards — the fiscal card (税控卡), the user card (用户卡) and the check card
// (稽查卡) — behind card.Transmitter.
package emulator
