package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/wnm-project/wnm/worker/config"
)

// The command line has one flag per setting of config.Settings, built from the table when the
// parser is: the snake_case name as in wnm-python, the kebab-case spelling as an alias, the help
// with its default and unit (see settingHelp), and the section (stored settings, or this run). Every
// flag keeps its value as text; the config package parses it like any other layer's, so a bad
// value gets the same message and exit code whether it came as a flag or from the environment.

// settingValue is a setting's value as given on the command line.
type settingValue struct {
	Raw string
	Set bool
}

// Decode takes the flag's value.
func (v *settingValue) Decode(ctx *kong.DecodeContext) error {
	if err := ctx.Scan.PopValueInto("value", &v.Raw); err != nil {
		return err
	}
	v.Set = true
	return nil
}

// boolValue is a boolean setting's value as given: --no_upnp means true, --no_upnp=VALUE gives
// VALUE (checked later, like any other layer's).
type boolValue struct{ settingValue }

// Decode takes the flag's value, if it has one.
func (v *boolValue) Decode(ctx *kong.DecodeContext) error {
	v.Raw, v.Set = "true", true
	if ctx.Scan.Peek().Type == kong.FlagValueToken {
		v.Raw = fmt.Sprint(ctx.Scan.Pop().Value)
	}
	return nil
}

// IsBool makes the value optional.
func (*boolValue) IsBool() bool { return true }

// settingFlags holds the flags built from the settings table: field i of the struct holds
// config.Settings[i].
type settingFlags struct{ v reflect.Value }

// newSettingFlags builds the flag struct from the settings table, with help[name] as each flag's
// help. The help goes into the tags as text rather than as kong variables: kong interpolates every
// variable for every flag, which made building the parser cost 20 ms.
func newSettingFlags(help map[string]string) *settingFlags {
	fields := make([]reflect.StructField, len(config.Settings))
	for i, s := range config.Settings {
		typ := reflect.TypeFor[settingValue]()
		tag := fmt.Sprintf(`name:%q help:%q group:%q`, s.Name, help[s.Name], s.Group())
		if s.Kind == config.Bool {
			typ = reflect.TypeFor[boolValue]()
		} else {
			tag += fmt.Sprintf(` placeholder:%q`, s.Kind.String())
		}
		if kebab := strings.ReplaceAll(s.Name, "_", "-"); kebab != s.Name {
			tag += fmt.Sprintf(` aliases:%q`, kebab)
		}
		if s.Hidden {
			tag += ` hidden:""`
		}
		fields[i] = reflect.StructField{Name: fmt.Sprintf("Setting%d", i), Type: typ, Tag: reflect.StructTag(tag)}
	}
	return &settingFlags{reflect.New(reflect.StructOf(fields))}
}

// option embeds the flags in the command line's root.
func (f *settingFlags) option() kong.Option { return kong.Embed(f.v.Interface()) }

// values returns the settings given on the command line, by setting name, in text form.
func (f *settingFlags) values() map[string]string {
	out := map[string]string{}
	if f == nil {
		return out
	}
	v := f.v.Elem()
	for i, s := range config.Settings {
		var sv settingValue
		switch p := v.Field(i).Addr().Interface().(type) {
		case *settingValue:
			sv = *p
		case *boolValue:
			sv = p.settingValue
		}
		if sv.Set {
			out[s.Name] = sv.Raw
		}
	}
	return out
}
