package card

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors a status word resolves to. A card's refusal is returned as
// a *StatusError (raw SW and command name reachable) that unwraps to one or
// two of these: the command-specific meaning, and the generic meaning of the
// code when that differs (ErrAlreadyRegistered also matches
// ErrStatusInvalid).
var (
	// ErrMemory means the card reports an EEPROM/memory failure (6581).
	ErrMemory = errors.New("card: card memory (EEPROM) failure")
	// ErrWrongLength means the card rejected Lc or Le (6700, or a 6Cxx that
	// reached the caller).
	ErrWrongLength = errors.New("card: wrong length")
	// ErrStatusInvalid means the application's state forbids the command (6901).
	ErrStatusInvalid = errors.New("card: application state forbids the command")
	// ErrAlreadyRegistered means the fiscal card is already registered to a
	// machine (6901 on GET_REGISTER_NB or TERMINAL_REGISTER).
	ErrAlreadyRegistered = errors.New("card: fiscal card already registered")
	// ErrNotRegistered means the fiscal card has not been registered yet
	// (6901 on ISSUE_INVOICE, DECLARE_DUTY, DAILY_COLLECT_SIGN,
	// UPDATE_CONTROLS, INPUT_INVOICE_NB, VERIFY_FISCAL_PIN).
	ErrNotRegistered = errors.New("card: fiscal card not registered")
	// ErrAlreadyCollected means the user card already holds this
	// declaration (6901 on DATA_COLLECT, 已经汇总).
	ErrAlreadyCollected = errors.New("card: declaration already collected on the user card")
	// ErrFileType means the command does not fit the file's structure
	// (6981 on file commands).
	ErrFileType = errors.New("card: wrong file type")
	// ErrKeyType means the key or PIN referenced has the wrong type (6981
	// on VERIFY, VERIFY_FISCAL_PIN and the AUTHENTICATE commands).
	ErrKeyType = errors.New("card: wrong key type")
	// ErrSecurityStatus means a required PIN or authentication is missing (6982).
	ErrSecurityStatus = errors.New("card: security status not satisfied")
	// ErrPINBlocked means the PIN or key is blocked (6983, or 63C0); only
	// the tax office can unblock a fiscal card.
	ErrPINBlocked = errors.New("card: PIN blocked")
	// ErrWrongPIN means a PIN verification failed with tries left (63Cx);
	// the error is a *PINError carrying the count.
	ErrWrongPIN = errors.New("card: wrong PIN")
	// ErrConditionsNotSatisfied means the conditions of use are not met (6985).
	ErrConditionsNotSatisfied = errors.New("card: conditions of use not satisfied")
	// ErrInvoiceStorageFull means the fiscal card cannot take another roll
	// (6985 on INPUT_INVOICE_NB, 发票存储段已满).
	ErrInvoiceStorageFull = errors.New("card: invoice roll storage full")
	// ErrStaleControls means the fiscal card refused a control record older
	// than the one it applied last (6985 on UPDATE_CONTROLS: a replay, or
	// a user card not yet given the tax office's newer record).
	ErrStaleControls = errors.New("card: control record older than the one in force")
	// ErrNoCurrentEF means no EF is selected (6986).
	ErrNoCurrentEF = errors.New("card: no current EF")
	// ErrSecureMessaging means secure-messaging data objects are wrong (6988).
	ErrSecureMessaging = errors.New("card: secure messaging data error")
	// ErrIncorrectData means the data field was rejected (6A80), including a
	// wrong XOR trailer, a bad date, tax item or invoice number.
	ErrIncorrectData = errors.New("card: incorrect data")
	// ErrWrongFiscalCardNo means the user card does not know the fiscal
	// card number it was given (6A80 on REGISTER_SIGN).
	ErrWrongFiscalCardNo = errors.New("card: fiscal card number not on this user card")
	// ErrFuncNotSupported means the function is not supported (6A81).
	ErrFuncNotSupported = errors.New("card: function not supported")
	// ErrFileNotFound means the file or application does not exist (6A82).
	ErrFileNotFound = errors.New("card: file not found")
	// ErrRecordNotFound means the record does not exist (6A83).
	ErrRecordNotFound = errors.New("card: record not found")
	// ErrNotEnoughSpace means the file has no room (6A84).
	ErrNotEnoughSpace = errors.New("card: not enough space in file")
	// ErrWrongP1P2 means P1-P2 were rejected (6A86).
	ErrWrongP1P2 = errors.New("card: wrong P1 P2")
	// ErrRefDataNotFound means the referenced key or PIN does not exist (6A88).
	ErrRefDataNotFound = errors.New("card: referenced data not found")
	// ErrOffsetOutOfRange means the offset lies outside the EF (6B00).
	ErrOffsetOutOfRange = errors.New("card: offset outside the file")
	// ErrInsNotSupported means the card does not know the instruction (6D00).
	ErrInsNotSupported = errors.New("card: instruction not supported")
	// ErrClaNotSupported means the card does not accept the class byte (6E00).
	ErrClaNotSupported = errors.New("card: class not supported")
	// ErrNoDiagnosis means the card failed without a precise reason (6F00).
	ErrNoDiagnosis = errors.New("card: error without precise diagnosis")
	// ErrMACInvalid means the card rejected a MAC (9302).
	ErrMACInvalid = errors.New("card: MAC invalid")
	// ErrAppLocked means the application is permanently locked (9303).
	ErrAppLocked = errors.New("card: application locked")
	// ErrAmountOverLimit means the invoice exceeds the single-invoice limit
	// (9401 on ISSUE_INVOICE, 金额超限).
	ErrAmountOverLimit = errors.New("card: amount over the single-invoice limit")
	// ErrNoInvoiceToDistribute means the user card holds no roll to hand
	// out (9401 on DISTRIBUTE_INVOICE_NB, 无发票分发).
	ErrNoInvoiceToDistribute = errors.New("card: no invoice roll to distribute")
	// ErrKeyVersion means the key version is not supported (9403).
	ErrKeyVersion = errors.New("card: key version not supported")
	// ErrUnexpectedStatus means a status word this package does not know
	// for the command (the raw SW is in the *StatusError).
	ErrUnexpectedStatus = errors.New("card: unexpected status word")
)

// StatusError is a card's refusal of a command: any final status word other
// than 9000. It unwraps to the command-specific sentinel (and to the generic
// sentinel of the code when that differs), or, for 63Cx and a 6983 answer to
// a PIN verification, to a *PINError.
type StatusError struct {
	// SW is the raw status word.
	SW SW
	// CLA and INS identify the command that was refused.
	CLA, INS byte
	// Command is the command name, e.g. "ISSUE_INVOICE".
	Command string
	// Err is what SW means for this command: a sentinel or a *PINError.
	Err error
	// Generic is the command-independent meaning when it differs from
	// Err (ErrStatusInvalid for ErrAlreadyRegistered), else nil.
	Generic error
	// GetResponse is set when the card accepted the command (61xx) and
	// then refused the GET RESPONSE 00 C0 that fetched its data: SW is the
	// GET RESPONSE's status word and Err its meaning for GET RESPONSE,
	// while CLA, INS and Command still name the original command, which
	// the card has executed.
	GetResponse bool
}

func (e *StatusError) Error() string {
	if e.GetResponse {
		return fmt.Sprintf("card: %s: GET RESPONSE for its data failed: SW %s: %s", e.Command, e.SW, strings.TrimPrefix(e.Err.Error(), "card: "))
	}
	return fmt.Sprintf("card: %s: SW %s: %s", e.Command, e.SW, strings.TrimPrefix(e.Err.Error(), "card: "))
}

// Unwrap returns the command-specific meaning and, if set, the generic one.
func (e *StatusError) Unwrap() []error {
	if e.Generic != nil {
		return []error{e.Err, e.Generic}
	}
	return []error{e.Err}
}

// PINError is a failed PIN verification: 63Cx (Retries = x) or 6983 (PIN
// blocked, Retries = 0) in answer to VERIFY or VERIFY_FISCAL_PIN. It unwraps
// to ErrWrongPIN when the PIN was rejected and to ErrPINBlocked when no tries
// are left.
type PINError struct {
	// Retries is the number of verifications left before the PIN blocks.
	Retries int
	// Blocked is set for 6983: the card refused before comparing the PIN.
	Blocked bool
}

func (e *PINError) Error() string {
	switch {
	case e.Blocked:
		return "card: PIN blocked"
	case e.Retries == 0:
		return "card: wrong PIN, no tries left (PIN now blocked)"
	case e.Retries == 1:
		return "card: wrong PIN, 1 try left"
	}
	return fmt.Sprintf("card: wrong PIN, %d tries left", e.Retries)
}

// Unwrap returns ErrWrongPIN and/or ErrPINBlocked.
func (e *PINError) Unwrap() []error {
	switch {
	case e.Blocked:
		return []error{ErrPINBlocked}
	case e.Retries == 0:
		return []error{ErrWrongPIN, ErrPINBlocked}
	}
	return []error{ErrWrongPIN}
}

// CheckStatus returns nil for 9000 and otherwise the *StatusError that sw
// means in answer to the command with class cla and instruction ins. This
// is where the command-specific meanings are resolved:
//
//	SW    command                                  error
//	6901  GET_REGISTER_NB, TERMINAL_REGISTER       ErrAlreadyRegistered (+ErrStatusInvalid)
//	6901  ISSUE_INVOICE, DECLARE_DUTY, UPDATE_CONTROLS, INPUT_INVOICE_NB,
//	      DAILY_COLLECT_SIGN, VERIFY_FISCAL_PIN,
//	      PIN_UNBLOCK                              ErrNotRegistered (+ErrStatusInvalid)
//	6901  DATA_COLLECT                             ErrAlreadyCollected (+ErrStatusInvalid)
//	6981  VERIFY, VERIFY_FISCAL_PIN, INTERNAL/EXTERNAL AUTHENTICATE
//	                                               ErrKeyType
//	6981  any other command                        ErrFileType
//	6985  INPUT_INVOICE_NB                         ErrInvoiceStorageFull (+ErrConditionsNotSatisfied)
//	6985  UPDATE_CONTROLS                          ErrStaleControls (+ErrConditionsNotSatisfied)
//	6A80  REGISTER_SIGN                            ErrWrongFiscalCardNo (+ErrIncorrectData)
//	9401  ISSUE_INVOICE                            ErrAmountOverLimit
//	9401  DISTRIBUTE_INVOICE_NB                    ErrNoInvoiceToDistribute
//	9401  any other command                        ErrUnexpectedStatus
//	63Cx  any                                      *PINError{Retries: x}
//	6983  VERIFY, VERIFY_FISCAL_PIN                *PINError{Blocked: true} (ErrPINBlocked)
//	6983  any other command                        ErrPINBlocked
//	6Cxx  any (the Channel normally absorbs it)    ErrWrongLength
//
// All other codes of GB 18240.2 map to one sentinel each (see the list of
// sentinels); unknown codes (including a 61xx the caller did not chain) give
// ErrUnexpectedStatus.
func CheckStatus(cla, ins byte, sw SW) error {
	if sw == SWOK {
		return nil
	}
	e := &StatusError{SW: sw, CLA: cla, INS: ins, Command: InsName(cla, ins)}
	prop := cla == CLAProprietary
	is := func(code byte) bool { return prop && ins == code }
	verify := ins == INSVerify && !prop || is(INSVerifyFiscalPIN)
	auth := verify || (!prop && (ins == INSInternalAuth || ins == INSExternalAuth))
	if n, ok := sw.RetriesLeft(); ok {
		e.Err = &PINError{Retries: n}
		return e
	}
	if sw.SW1() == 0x6C {
		e.Err = ErrWrongLength
		return e
	}
	switch sw {
	case SWEEPROMError:
		e.Err = ErrMemory
	case SWWrongLength:
		e.Err = ErrWrongLength
	case SWStatusInvalid:
		e.Err, e.Generic = ErrStatusInvalid, nil
		switch {
		case is(INSGetRegisterNB), is(INSTerminalRegister):
			e.Err, e.Generic = ErrAlreadyRegistered, ErrStatusInvalid
		case is(INSIssueInvoice), is(INSDeclareDuty), is(INSUpdateControls), is(INSInputInvoiceNB), is(INSDailyCollectSign),
			is(INSVerifyFiscalPIN), cla == CLAUnblock && ins == INSUnblockPIN:
			e.Err, e.Generic = ErrNotRegistered, ErrStatusInvalid
		case is(INSDataCollect):
			e.Err, e.Generic = ErrAlreadyCollected, ErrStatusInvalid
		}
	case SWFileTypeError:
		e.Err = ErrFileType
		if auth {
			e.Err = ErrKeyType
		}
	case SWSecurityStatus:
		e.Err = ErrSecurityStatus
	case SWAuthBlocked:
		e.Err = ErrPINBlocked
		if verify {
			e.Err = &PINError{Blocked: true}
		}
	case SWConditionsNotSatisfied:
		e.Err = ErrConditionsNotSatisfied
		switch {
		case is(INSInputInvoiceNB):
			e.Err, e.Generic = ErrInvoiceStorageFull, ErrConditionsNotSatisfied
		case is(INSUpdateControls):
			e.Err, e.Generic = ErrStaleControls, ErrConditionsNotSatisfied
		}
	case SWNoCurrentEF:
		e.Err = ErrNoCurrentEF
	case SWSMDataError:
		e.Err = ErrSecureMessaging
	case SWIncorrectData:
		e.Err = ErrIncorrectData
		if is(INSRegisterSign) {
			e.Err, e.Generic = ErrWrongFiscalCardNo, ErrIncorrectData
		}
	case SWFuncNotSupported:
		e.Err = ErrFuncNotSupported
	case SWFileNotFound:
		e.Err = ErrFileNotFound
	case SWRecordNotFound:
		e.Err = ErrRecordNotFound
	case SWNotEnoughSpace:
		e.Err = ErrNotEnoughSpace
	case SWWrongP1P2:
		e.Err = ErrWrongP1P2
	case SWRefDataNotFound:
		e.Err = ErrRefDataNotFound
	case SWOffsetOutOfRange:
		e.Err = ErrOffsetOutOfRange
	case SWInsNotSupported:
		e.Err = ErrInsNotSupported
	case SWClaNotSupported:
		e.Err = ErrClaNotSupported
	case SWNoData:
		e.Err = ErrNoDiagnosis
	case SWMACError:
		e.Err = ErrMACInvalid
	case SWAppLocked:
		e.Err = ErrAppLocked
	case SWLimitOrNoInvoice:
		switch {
		case is(INSIssueInvoice):
			e.Err = ErrAmountOverLimit
		case is(INSDistributeInvoiceNB):
			e.Err = ErrNoInvoiceToDistribute
		default:
			e.Err = ErrUnexpectedStatus
		}
	case SWKeyVersion:
		e.Err = ErrKeyVersion
	default:
		e.Err = ErrUnexpectedStatus
	}
	return e
}
