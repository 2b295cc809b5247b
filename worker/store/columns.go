package store

import (
	"encoding/json"
	"math"
)

// Column is one column of a row, by its name in the schema, with its Go value: int, int64,
// float64, string, bool, nil (SQL NULL) or json.RawMessage.
type Column struct {
	Name  string
	Value any
}

// collector gathers a row's columns in schema order.
type collector []Column

func (c *collector) add(col string, v any)               { *c = append(*c, Column{col, v}) }
func (c *collector) Int(col string, p *int)              { c.add(col, *p) }
func (c *collector) Int64(col string, p *int64)          { c.add(col, *p) }
func (c *collector) Float(col string, p *float64)        { c.add(col, *p) }
func (c *collector) Text(col string, p *string)          { c.add(col, *p) }
func (c *collector) Bool(col string, p *bool)            { c.add(col, *p) }
func (c *collector) JSON(col string, p *json.RawMessage) { c.add(col, *p) }
func (c *collector) NaNFloat(col string, p *float64) {
	if math.IsNaN(*p) {
		c.add(col, nil)
		return
	}
	c.add(col, *p)
}
func (c *collector) NullInt(col string, p **int) {
	if *p == nil {
		c.add(col, nil)
		return
	}
	c.add(col, **p)
}

// Row returns the machine row's columns in schema order (wnm-python's, then wnm's).
func (m Machine) Row() []Column {
	var c collector
	machineFields(&m, &c)
	return c
}

// Row returns the node row's columns in schema order (wnm-python's, then wnm's).
func (n Node) Row() []Column {
	var c collector
	nodeFields(&n, &c)
	return c
}
