package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/dop251/goja"
)

// maxEventDepth bounds nesting in the event JSON (the Go decoder would
// otherwise recurse as deep as the input).
const maxEventDepth = 64

// eventValue builds the event as plain JS objects and arrays, keeping key
// order, so the workflow sees ordinary (not host-backed) values. Empty
// input is an empty object.
func eventValue(vm *goja.Runtime, data []byte) (goja.Value, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return vm.NewObject(), nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(vm, dec, 0)
	if err != nil {
		return nil, fmt.Errorf("event JSON at byte %d: %w", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("event JSON at byte %d: unexpected data after the value", dec.InputOffset())
	}
	return v, nil
}

func decodeValue(vm *goja.Runtime, dec *json.Decoder, depth int) (goja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxEventDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxEventDepth)
		}
		if t == '{' {
			obj := vm.NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeValue(vm, dec, depth+1)
				if err != nil {
					return nil, err
				}
				// Define, not Set: a "__proto__" key is data, as in JSON.parse.
				if err := obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token() // '}'
			return obj, err
		}
		var items []any
		for dec.More() {
			v, err := decodeValue(vm, dec, depth+1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		_, err := dec.Token() // ']'
		return vm.NewArray(items...), err
	case string:
		return vm.ToValue(t), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil && i >= -(1<<53) && i <= 1<<53 {
			return vm.ToValue(i), nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", t, err)
		}
		return vm.ToValue(f), nil
	case bool:
		return vm.ToValue(t), nil
	case nil:
		return goja.Null(), nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
