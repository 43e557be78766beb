package servicepolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// ErrYearNotCovered is matched by every error about a year that the holiday
// data does not cover. The calendar never guesses such a year as plain
// Monday-to-Friday.
var ErrYearNotCovered = errors.New("servicepolicy: year not covered by the holiday data")

// ErrInvalidPolicy is matched by every error about a bad policy or policy
// file.
var ErrInvalidPolicy = errors.New("servicepolicy: invalid policy")

// ErrInvalidCalendar is matched by every error about a bad holiday
// arrangement or working-day setting.
var ErrInvalidCalendar = errors.New("servicepolicy: invalid calendar data")

// ErrInvalidRecord is matched by every error about bad service records
// (a data set file, or records that refer to nothing).
var ErrInvalidRecord = errors.New("servicepolicy: invalid service record")

// YearNotCoveredError reports a year a HolidaySource has no arrangement for.
type YearNotCoveredError struct {
	Year   int
	Source string
}

// Error implements error.
func (e *YearNotCoveredError) Error() string {
	return fmt.Sprintf("servicepolicy: year %d not covered by holiday data (%s); add it with Calendar.SetYear", e.Year, e.Source)
}

// Is matches ErrYearNotCovered.
func (e *YearNotCoveredError) Is(target error) bool { return target == ErrYearNotCovered }

// FieldError names one bad field in a policy, arrangement or record, with a
// path such as "commitments[3].limit".
type FieldError struct {
	Field   string
	Problem string
	// Err is the sentinel the error matches: ErrInvalidPolicy,
	// ErrInvalidCalendar or ErrInvalidRecord.
	Err error
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "servicepolicy: " + e.Problem
	}
	return "servicepolicy: " + e.Field + ": " + e.Problem
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// jsonPath finds the path of the value in data that fails to decode into
// v (strictly), such as "tickets[3].events[0].estimate". encoding/json does
// not name the field (nor the index) for errors from UnmarshalText, so the
// path is found by decoding one member at a time. It returns "" when the
// top level itself is bad.
func jsonPath(data []byte, v any) string {
	return findBad(data, reflect.TypeOf(v), "")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func findBad(raw []byte, typ reflect.Type, path string) string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return path
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := jsonField(typ, k)
			if !ok {
				return join(path, k)
			}
			if decodeStrict(m[k], reflect.New(ft).Interface()) != nil {
				return findBad(m[k], ft, join(path, k))
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return path
		}
		for i, it := range items {
			if decodeStrict(it, reflect.New(typ.Elem()).Interface()) != nil {
				return findBad(it, typ.Elem(), path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	return path
}

// jsonField returns the type of the field of struct typ that JSON key k
// decodes into (exact name first, then case-insensitive, as encoding/json).
func jsonField(typ reflect.Type, k string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if t, ok := jsonField(ft, k); ok {
					return t, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == k {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, k) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

// jsonErrorProblem describes a decoding error without repeating the field.
func jsonErrorProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "want a JSON " + te.Type.String() + ", got " + te.Value
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
