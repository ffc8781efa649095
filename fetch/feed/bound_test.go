package feed

import "testing"

func TestBoundText(t *testing.T) {
	tests := []struct {
		name, in, want string
		cuts           int
	}{
		{"short runs kept", `<a x="1>2">hell</a>`, `<a x="1>2">hell</a>`, 0},
		{"text cut", `<t>abcdefghij</t>`, `<t>abcd</t>`, 1},
		{"cdata cut", `<t><![CDATA[abcdefgh]]></t>`, `<t><![CDATA[abcd]]></t>`, 1},
		{"comment cut", `<!--abcdefgh--><t>x</t>`, `<!--abcd--><t>x</t>`, 1},
		{"no half entity", `<t>ab&amp;cdefgh</t>`, `<t>ab</t>`, 1},
		{"no half character", "<t>abcé</t>", "<t>abc</t>", 1},
		{"quoted > in attribute is markup", `<t a="abcdefgh>">x</t>`, `<t a="abcdefgh>">x</t>`, 0},
		{"two fields", `<a>123456</a><b>123456</b>`, `<a>1234</a><b>1234</b>`, 2},
		{"unterminated", `<t>abcdefgh`, `<t>abcd`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cuts := boundText([]byte(tc.in), 4)
			if string(got) != tc.want || cuts != tc.cuts {
				t.Errorf("boundText(%q) = %q, %d cuts; want %q, %d", tc.in, got, cuts, tc.want, tc.cuts)
			}
		})
	}
}

func TestBoundJSONStrings(t *testing.T) {
	tests := []struct {
		name, in, want string
		cuts           int
	}{
		{"short strings kept", `{"a":"abcd","b":[1,"xy"]}`, `{"a":"abcd","b":[1,"xy"]}`, 0},
		{"value cut", `{"t":"abcdefgh"}`, `{"t":"abcd"}`, 1},
		{"key cut too", `{"abcdefgh":1}`, `{"abcd":1}`, 1},
		{"escaped quote does not end the string", `{"t":"a\"bcdefg"}`, `{"t":"a\"b"}`, 1},
		{"no half escape", `{"t":"abc\"defg"}`, `{"t":"abc"}`, 1},
		{"no half unicode escape", `{"t":"ab\u00e9cdef"}`, `{"t":"ab"}`, 1},
		{"escaped backslash before the cut is whole", `{"t":"a\\bcdefg"}`, `{"t":"a\\b"}`, 1},
		{"no half character", `{"t":"abcé"}`, `{"t":"abc"}`, 1},
		{"two fields", `["123456","123456"]`, `["1234","1234"]`, 2},
		{"unterminated", `{"t":"abcdefgh`, `{"t":"abcd`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cuts := boundJSONStrings([]byte(tc.in), 4)
			if string(got) != tc.want || cuts != tc.cuts {
				t.Errorf("boundJSONStrings(%q) = %q, %d cuts; want %q, %d", tc.in, got, cuts, tc.want, tc.cuts)
			}
		})
	}
}
