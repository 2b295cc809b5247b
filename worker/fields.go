package worker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Field is one key of a [Fields] object.
type Field struct {
	Key   string
	Value any
}

// Fields is a JSON object whose keys keep their order, so that results print with wnm-python's key
// order.
type Fields []Field

// Get returns the value of key, or nil.
func (f Fields) Get(key string) any {
	for _, x := range f {
		if x.Key == key {
			return x.Value
		}
	}
	return nil
}

// Status returns the "status" key as text.
func (f Fields) Status() string {
	s, _ := f.Get("status").(string)
	return s
}

// MarshalJSON encodes the fields as one object, in order.
func (f Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", x.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Text renders the fields as "key: value" lines: lists joined by commas, nested objects inline,
// null as "-".
func (f Fields) Text() string {
	var b strings.Builder
	for _, x := range f {
		fmt.Fprintf(&b, "%s: %s\n", x.Key, textValue(x.Value))
	}
	return b.String()
}

func textValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case []string:
		if v == nil {
			return "-"
		}
		return strings.Join(v, ", ")
	case []Fields:
		if v == nil {
			return "-"
		}
		parts := make([]string, 0, len(v))
		for _, f := range v {
			var kv []string
			for _, x := range f {
				kv = append(kv, fmt.Sprintf("%s=%s", x.Key, textValue(x.Value)))
			}
			parts = append(parts, strings.Join(kv, " "))
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}

// KV returns a field.
func KV(key string, value any) Field { return Field{Key: key, Value: value} }
