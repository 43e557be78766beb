package card

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckStatusTable(t *testing.T) {
	const iso, prop = CLAISO, CLAProprietary
	tests := []struct {
		cla, ins byte
		sw       SW
		want     []error // all must match with errors.Is
		not      []error // none may match
	}{
		{iso, INSReadBinary, SWEEPROMError, []error{ErrMemory}, nil},
		{prop, INSDeclareDuty, SWEEPROMError, []error{ErrMemory}, nil},
		{iso, INSReadBinary, SWWrongLength, []error{ErrWrongLength}, nil},
		{iso, INSReadBinary, SWWrongLe(8), []error{ErrWrongLength}, nil},
		{prop, INSGetRegisterNB, SWStatusInvalid, []error{ErrAlreadyRegistered, ErrStatusInvalid}, []error{ErrNotRegistered}},
		{prop, INSTerminalRegister, SWStatusInvalid, []error{ErrAlreadyRegistered, ErrStatusInvalid}, nil},
		{prop, INSIssueInvoice, SWStatusInvalid, []error{ErrNotRegistered, ErrStatusInvalid}, []error{ErrAlreadyRegistered}},
		{prop, INSDeclareDuty, SWStatusInvalid, []error{ErrNotRegistered}, nil},
		{prop, INSDailyCollectSign, SWStatusInvalid, []error{ErrNotRegistered}, nil},
		{prop, INSUpdateControls, SWStatusInvalid, []error{ErrNotRegistered}, nil},
		{prop, INSInputInvoiceNB, SWStatusInvalid, []error{ErrNotRegistered}, nil},
		{prop, INSVerifyFiscalPIN, SWStatusInvalid, []error{ErrNotRegistered, ErrStatusInvalid}, nil},
		{prop, INSDataCollect, SWStatusInvalid, []error{ErrAlreadyCollected, ErrStatusInvalid}, []error{ErrNotRegistered}},
		{iso, INSUpdateBinary, SWStatusInvalid, []error{ErrStatusInvalid}, []error{ErrAlreadyRegistered, ErrNotRegistered, ErrAlreadyCollected}},
		{iso, INSVerify, SWFileTypeError, []error{ErrKeyType}, []error{ErrFileType}},
		{prop, INSVerifyFiscalPIN, SWFileTypeError, []error{ErrKeyType}, nil},
		{iso, INSExternalAuth, SWFileTypeError, []error{ErrKeyType}, nil},
		{iso, INSInternalAuth, SWFileTypeError, []error{ErrKeyType}, nil},
		{iso, INSReadBinary, SWFileTypeError, []error{ErrFileType}, []error{ErrKeyType}},
		{iso, INSReadRecord, SWFileTypeError, []error{ErrFileType}, nil},
		{prop, INSInputInvoiceNB, SWSecurityStatus, []error{ErrSecurityStatus}, nil},
		{prop, INSIssueInvoice, SWAuthBlocked, []error{ErrPINBlocked}, []error{ErrWrongPIN}},
		{prop, INSVerifyFiscalPIN, SWAuthBlocked, []error{ErrPINBlocked}, []error{ErrWrongPIN}},
		{iso, INSVerify, SWAuthBlocked, []error{ErrPINBlocked}, nil},
		{prop, INSGetRegisterNB, SWConditionsNotSatisfied, []error{ErrConditionsNotSatisfied}, []error{ErrInvoiceStorageFull}},
		{prop, INSInputInvoiceNB, SWConditionsNotSatisfied, []error{ErrInvoiceStorageFull, ErrConditionsNotSatisfied}, []error{ErrStaleControls}},
		{prop, INSUpdateControls, SWConditionsNotSatisfied, []error{ErrStaleControls, ErrConditionsNotSatisfied}, []error{ErrInvoiceStorageFull}},
		{CLAUnblock, INSUnblockPIN, SWStatusInvalid, []error{ErrNotRegistered, ErrStatusInvalid}, nil},
		{CLAUnblock, INSUnblockPIN, SWMACError, []error{ErrMACInvalid}, nil},
		{iso, INSUnblockPIN, SWStatusInvalid, []error{ErrStatusInvalid}, []error{ErrNotRegistered}},
		{iso, INSReadBinary, SWNoCurrentEF, []error{ErrNoCurrentEF}, nil},
		{iso, INSReadBinary, SWSMDataError, []error{ErrSecureMessaging}, nil},
		{prop, INSIssueInvoice, SWIncorrectData, []error{ErrIncorrectData}, []error{ErrWrongFiscalCardNo}},
		{prop, INSRegisterSign, SWIncorrectData, []error{ErrWrongFiscalCardNo, ErrIncorrectData}, nil},
		{iso, INSSelect, SWFuncNotSupported, []error{ErrFuncNotSupported}, nil},
		{iso, INSSelect, SWFileNotFound, []error{ErrFileNotFound}, nil},
		{prop, INSTerminalRegister, SWFileNotFound, []error{ErrFileNotFound}, nil},
		{iso, INSReadRecord, SWRecordNotFound, []error{ErrRecordNotFound}, nil},
		{iso, INSAppendRecord, SWNotEnoughSpace, []error{ErrNotEnoughSpace}, nil},
		{iso, INSReadRecord, SWWrongP1P2, []error{ErrWrongP1P2}, nil},
		{iso, INSVerify, SWRefDataNotFound, []error{ErrRefDataNotFound}, nil},
		{iso, INSReadBinary, SWOffsetOutOfRange, []error{ErrOffsetOutOfRange}, nil},
		{iso, 0x12, SWInsNotSupported, []error{ErrInsNotSupported}, nil},
		{0x80, INSSelect, SWClaNotSupported, []error{ErrClaNotSupported}, nil},
		{iso, INSSelect, SWNoData, []error{ErrNoDiagnosis}, nil},
		{prop, INSUpdateControls, SWMACError, []error{ErrMACInvalid}, nil},
		{prop, INSDataCollect, SWMACError, []error{ErrMACInvalid}, nil},
		{prop, INSGetRegisterNB, SWAppLocked, []error{ErrAppLocked}, nil},
		{prop, INSIssueInvoice, SWLimitOrNoInvoice, []error{ErrAmountOverLimit}, []error{ErrNoInvoiceToDistribute}},
		{prop, INSDistributeInvoiceNB, SWLimitOrNoInvoice, []error{ErrNoInvoiceToDistribute}, []error{ErrAmountOverLimit}},
		{prop, INSDeclareDuty, SWLimitOrNoInvoice, []error{ErrUnexpectedStatus}, []error{ErrAmountOverLimit, ErrNoInvoiceToDistribute}},
		{prop, INSIssueInvoice, SWKeyVersion, []error{ErrKeyVersion}, nil},
		{prop, INSVerifyFiscalPIN, SWRetriesLeft(2), []error{ErrWrongPIN}, []error{ErrPINBlocked}},
		{iso, INSVerify, SWRetriesLeft(0), []error{ErrWrongPIN, ErrPINBlocked}, nil},
		{iso, INSSelect, 0x6283, []error{ErrUnexpectedStatus}, nil},
		{iso, INSSelect, SWBytesAvailable(4), []error{ErrUnexpectedStatus}, nil},
	}
	for _, tt := range tests {
		err := CheckStatus(tt.cla, tt.ins, tt.sw)
		var se *StatusError
		if !errors.As(err, &se) {
			t.Errorf("%02X %02X %s: %v is not a *StatusError", tt.cla, tt.ins, tt.sw, err)
			continue
		}
		if se.SW != tt.sw || se.INS != tt.ins || se.CLA != tt.cla || se.Command != InsName(tt.cla, tt.ins) {
			t.Errorf("%02X %02X %s: StatusError fields %+v", tt.cla, tt.ins, tt.sw, se)
		}
		if !strings.Contains(err.Error(), tt.sw.String()) || !strings.Contains(err.Error(), se.Command) {
			t.Errorf("message %q lacks SW or command", err)
		}
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%02X %02X %s: %v is not %v", tt.cla, tt.ins, tt.sw, err, w)
			}
		}
		for _, n := range tt.not {
			if errors.Is(err, n) {
				t.Errorf("%02X %02X %s: %v must not be %v", tt.cla, tt.ins, tt.sw, err, n)
			}
		}
	}
}

func TestCheckStatusOK(t *testing.T) {
	if err := CheckStatus(CLAISO, INSSelect, SWOK); err != nil {
		t.Fatal(err)
	}
}

func TestPINError(t *testing.T) {
	err := CheckStatus(CLAProprietary, INSVerifyFiscalPIN, SWRetriesLeft(2))
	var pe *PINError
	if !errors.As(err, &pe) || pe.Retries != 2 || pe.Blocked {
		t.Fatalf("errors.As PINError: %v %+v", err, pe)
	}
	if !strings.Contains(err.Error(), "2 tries left") {
		t.Errorf("message %q", err)
	}
	err = CheckStatus(CLAISO, INSVerify, SWAuthBlocked)
	if !errors.As(err, &pe) || !pe.Blocked || pe.Retries != 0 {
		t.Fatalf("6983 on VERIFY: %v %+v", err, pe)
	}
	// 6983 on a non-verify command is a plain StatusError.
	err = CheckStatus(CLAProprietary, INSIssueInvoice, SWAuthBlocked)
	if errors.As(err, &pe) {
		t.Fatalf("6983 on ISSUE_INVOICE is a PINError: %v", err)
	}
}
