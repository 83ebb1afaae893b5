import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../types.ts';
import {
  checkTemplate,
  configureTemplates,
  DEFAULT_TEMPLATE_SETTINGS,
  expandTemplate,
  type TemplateContext,
} from './expand.ts';

function context(value: number, overrides: Partial<TemplateContext> = {}): TemplateContext {
  const up: Sample[] = [
    { labels: { __name__: 'up', instance: 'h2:80', job: 'b' }, value: 1 },
    { labels: { __name__: 'up', instance: 'h1:80', job: 'a' }, value: 0 },
  ];
  return {
    labels: { __name__: 'm', job: 'j', instance: 'i:9100' },
    externalLabels: {},
    externalURL: '',
    value,
    timeMs: 0,
    query: async (expr) => (expr === 'up' ? up : []),
    ...overrides,
  };
}

/**
 * [case, template, what Prometheus 2.42 rendered]: each expectation was
 * printed by `promtool test rules` for an alert on m{job="j",instance="i:9100"}
 * with value 1234567 (the query answers above played by up{...} series).
 */
const PROMTOOL_OBSERVED: [string, string, string][] = [
  ['v', '{{ $value }}', '1.234567e+06'],
  ['m', '{{ $labels.missing }}', ''],
  ['args', '{{ (args 1 "a").arg0 }} {{ (args 1).arg5 }}', '1 <no value>'],
  ['strip', '{{ stripPort "a:80" }} {{ stripPort "[::1]:80" }} {{ stripPort "nohost" }}', 'a ::1 nohost'],
  [
    'sd',
    '{{ stripDomain "foo.example.com" }} {{ stripDomain "10.1.2.3:90" }} {{ stripDomain "[::1]:80" }} {{ stripPort "foo.example.com" }}',
    'foo 10.1.2.3:90 [::1]:80 foo.example.com',
  ],
  ['tt', '{{ toTime "1600000000.5" }}', '2020-09-13 12:26:40.5 +0000 UTC'],
  ['pd', '{{ parseDuration "1y2w3d4h5m6s7ms" }} {{ parseDuration "0" }}', '3.3019506007e+07 0'],
  ['gl', '{{ graphLink "up > 0" }}', '/graph?g0.expr=up+%3E+0&g0.tab=0'],
  ['tl', '{{ tableLink "up" }}', '/graph?g0.expr=up&g0.tab=1'],
  ['q', '{{ range query "up" }}{{ .Labels.instance }}={{ .Value }};{{ end }}', 'h2:80=1;h1:80=0;'],
  ['q3', '{{ with query "up" }}{{ . | first | value }}{{ end }}', '1'],
  ['q4', '{{ range sortByLabel "instance" (query "up") }}{{ label "instance" . }} {{ end }}', 'h1:80 h2:80 '],
  ['q5', '{{ (query "up" | first) }}', '{map[__name__:up instance:h2:80 job:b] 1}'],
  ['q6', '{{ with query "up" }}{{ index . 0 }}{{ end }}', '{map[__name__:up instance:h2:80 job:b] 1}'],
  ['sv', '{{ with query "up" }}{{ . | first | strvalue }}|{{ end }}', '|'],
  [
    'fe',
    '{{ first (query "nothing") }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <first (query "nothing")>: error calling first: first() called on vector with no elements>',
  ],
  ['title', '{{ title "hello wORLD foo-bar" }}', 'Hello WORLD Foo-Bar'],
  ['up', '{{ toUpper "abc" }}{{ toLower "ABC" }}', 'ABCabc'],
  ['re', '{{ reReplaceAll "(a)(b)?" "[$1${2}x$2x]" "ab a c" }}', '[abx] [ax] c'],
  ['match', '{{ match "^a.c$" "abc" }}', 'true'],
  ['safe', '{{ safeHtml "<b>" }}', '<b>'],
  [
    'vp',
    '{{ printf "%.2f|%d|%s|%v|%g|%e|%q|%x|%5.1f|%-10s|%%|%5d|%05d" $value 3 "s" $value $value $value "q" 255 3.14159 "ab" 42 -42 }}',
    '1234567.00|3|s|1.234567e+06|1.234567e+06|1.234567e+06|"q"|ff|  3.1|ab        |%|   42|-0042',
  ],
  ['pbad', '{{ printf "%d %s %d" $value 3 }}', '%!d(float64=1.234567e+06) %!s(int=3) %!d(MISSING)'],
  ['pextra', '{{ printf "%d" 1 2 "x" }}', '1%!(EXTRA int=2, string=x)'],
  ['lbl', '{{ $labels }}', 'map[__name__:m instance:i:9100 job:j]'],
  ['print', '{{ print 1 2 "a" "b" 3 }}|{{ println 1 "a" }}', '1 2ab3|1 a\n'],
  ['if', '{{ if eq $labels.job "j" }}yes{{ else if eq $labels.job "k" }}k{{ else }}no{{ end }}', 'yes'],
  ['range', '{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}', '__name__=m,instance=i:9100,job=j,'],
  [
    'rangeElse',
    '{{ range $labels.none }}x{{ else }}empty{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:128: executing "__alert_X" at <$labels.none>: range can\'t iterate over >',
  ],
  [
    'with',
    '{{ with $labels.job }}{{ . }}{{ else }}none{{ end }}{{ with $labels.none }}x{{ else }}none{{ end }}',
    'jnone',
  ],
  [
    'define',
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" $labels.job }}{{ block "b" 5 }}<{{ . }}>{{ end }}',
    '[j]<5>',
  ],
  ['trim', 'a  {{- 1 -}}  b {{- /* c */ -}} c', 'a1bc'],
  ['comment', 'x{{/* hi */}}y', 'xy'],
  [
    'undef',
    '{{ template "nope" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:124: executing "__alert_X" at <{{template "nope"}}>: template "nope" not defined>',
  ],
  ['idx', '{{ index $labels "job" }} {{ index "abc" 1 }}', 'j 98'],
  [
    'idxerr',
    '{{ with query "up" }}{{ index . 5 }}{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:136: executing "__alert_X" at <index . 5>: error calling index: index out of range: 5>',
  ],
  [
    'nov',
    '{{ (args 1).x }}|{{ .Nope }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:132: executing "__alert_X" at <.Nope>: can\'t evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }>',
  ],
  ['len', '{{ len $labels }} {{ len "héllo" }}', '3 6'],
  ['slice', '{{ slice "abcdef" 1 3 }}', 'bc'],
  [
    'cmp',
    '{{ lt 1 2 }} {{ ge 2.5 1.5 }} {{ ne "a" "b" }} {{ eq $value 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:162: executing "__alert_X" at <eq $value 1>: error calling eq: incompatible types for comparison>',
  ],
  ['eqint', '{{ eq 1 1 2 }}', 'true'],
  ['andor', '{{ and 1 0 2 }} {{ or 0 "" "x" }} {{ not 0 }}', '0 x true'],
  [
    'esc',
    '{{ html "<a href=\'x\'>&" }} {{ js "it\'s <x> = \\"q\\"" }} {{ urlquery "a b&c=d" }}',
    '&lt;a href=&#39;x&#39;&gt;&amp; it\\\'s \\u003Cx\\u003E \\u003D \\"q\\" a+b%26c%3Dd',
  ],
  [
    'call',
    '{{ call $labels }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <call $labels>: error calling call: non-function of type map[string]string>',
  ],
  [
    'brk',
    '{{ range $i, $e := $labels }}{{ if eq $i "job" }}{{ break }}{{ end }}{{ $i }};{{ end }}',
    '__name__;instance;',
  ],
  [
    'cont',
    '{{ range $i, $e := $labels }}{{ if eq $i "job" }}{{ continue }}{{ end }}{{ $i }};{{ end }}',
    '__name__;instance;',
  ],
  ['var', '{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', '2'],
  [
    'rawstr',
    "{{ `a\\nb` }} {{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ nil | print }}",
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:159: executing "__alert_X" at <nil>: nil is not a command>',
  ],
  [
    'hum',
    '{{ humanize 0 }} {{ humanize 0.000123 }} {{ humanize 1e30 }} {{ humanize "1234" }} {{ humanize1024 1048576 }} {{ humanize1024 0.5 }} {{ humanizeDuration 0.25 }} {{ humanizeDuration -90061 }} {{ humanizeDuration 59.99 }} {{ humanizeDuration 0 }} {{ humanizePercentage 1 }}',
    '0 123u 1e+06Y 1.234k 1Mi 0.5 250ms -1d 1h 1m 1s 59.99s 0s 100%',
  ],
  [
    'hts',
    '{{ humanizeTimestamp 0 }} {{ humanizeTimestamp "1600000000" }}',
    '1970-01-01 00:00:00 +0000 UTC 2020-09-13 12:26:40 +0000 UTC',
  ],
  [
    'herr',
    '{{ humanize "abc" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize "abc">: error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax>',
  ],
  [
    'herr2',
    '{{ humanize $labels }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize $labels>: error calling humanize: can\'t convert map[string]string to float>',
  ],
  [
    'typ',
    '{{ value "x" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:121: executing "__alert_X" at <"x">: can\'t handle "x" for arg of type *template.sample>',
  ],
  [
    'typ2',
    '{{ $labels.job | value }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:129: executing "__alert_X" at <value>: wrong type for value; expected *template.sample; got string>',
  ],
  [
    'nargs',
    '{{ humanize }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize>: wrong number of args for humanize: want 1 got 0>',
  ],
  [
    'reerr',
    '{{ reReplaceAll "(" "x" "y" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <reReplaceAll "(" "x" "y">: error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`>',
  ],
  [
    'merr',
    '{{ match "a(" "y" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "a(" "y">: error calling match: error parsing regexp: missing closing ): `a(`>',
  ],
  [
    'pderr',
    '{{ parseDuration "xx" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <parseDuration "xx">: error calling parseDuration: not a valid duration string: "xx">',
  ],
  [
    're2',
    '{{ reReplaceAll "a*" "-" "baaac" }}|{{ reReplaceAll "(?i)B(?P<x>.)" "${x}!" "abcBd" }}|{{ reReplaceAll "\\\\s+" "_" "a  b\\tc" }}',
    '-b-c-|ac!d!|a_b_c',
  ],
  [
    'fielderr',
    '{{ $labels.job.x }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:122: executing "__alert_X" at <$labels.job.x>: can\'t evaluate field x in type string>',
  ],
  [
    'nonfunc',
    '{{ $labels.job 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:122: executing "__alert_X" at <$labels.job>: job is not a method but has arguments>',
  ],
  [
    'rng',
    '{{ range 5 }}x{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:121: executing "__alert_X" at <5>: range can\'t iterate over 5>',
  ],
  ['neg', '{{ -1 }} {{ printf "%+d %x %X %o %b %c %U" 5 255 255 8 5 65 65 }}', '-1 +5 ff FF 10 101 A U+0041'],
  ['fl', '{{ printf "%v %v %v %v %v" 0.1 1e-7 1e21 100000 123456.7 }}', '0.1 1e-07 1e+21 100000 123456.7'],
  ['nan', '{{ printf "%v %f %5.2f|%-8v|" (parseDuration "0") 1.0 2.0 "x" }}', '0 1.000000  2.00|x       |'],
  [
    'e1',
    '{{ humanize 1 2 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize>: wrong number of args for humanize: want 1 got 2>',
  ],
  [
    'e2',
    '{{ index $labels 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <index $labels 1>: error calling index: value has type int; should be string>',
  ],
  ['e3', '{{ not (args).x }}', 'true'],
  [
    'e4',
    '{{ len (args).x }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <len (args).x>: error calling len: len of nil pointer>',
  ],
  ['e5', '{{ eq (args).x nil }}', 'true'],
  [
    'e6',
    '{{ range "abc" }}x{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:121: executing "__alert_X" at <"abc">: range can\'t iterate over abc>',
  ],
  [
    'e7',
    'line1\n{{ $x := 1 }}\n  {{ index $labels.job 9 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:3:5: executing "__alert_X" at <index $labels.job 9>: error calling index: index out of range: 9>',
  ],
  [
    'e8',
    '{{ with query "up" }}{{ (index . 0).Foo }}{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:145: executing "__alert_X" at <0>: can\'t evaluate field Foo in type *template.sample>',
  ],
  [
    'e9',
    '{{ label "x" nil }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <label "x" nil>: error calling label: runtime error: invalid memory address or nil pointer dereference>',
  ],
  [
    'e10',
    '{{ printf "%s %q %x %T %t %6.2e %+.3g %*d|%-5t|" 5 65 1.5 $labels true 1234.5 3.14159 4 7 false }}',
    "%!s(int=5) 'A' 0x1.8p+00 map[string]string true 1.23e+03 +3.14    7|false|",
  ],
  [
    'e11',
    '{{ printf "%v|%d|%s" $labels (args 1) nil }}',
    'map[__name__:m instance:i:9100 job:j]|map[%!d(string=arg0):1]|%!s(<nil>)',
  ],
  [
    'e12',
    '{{ title "ß élan über-straße" }} {{ toUpper "straße" }} {{ toLower "İI" }}',
    'ß Élan Über-Straße STRAßE ii',
  ],
  [
    'e13',
    '{{ and }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <and>: wrong number of args for and: want at least 1 got 0>',
  ],
  ['e14', '{{ 1 | printf "%d-%d" 2 }}', '2-1'],
  ['e15', '{{ $labels.job | printf "%s!" }}', 'j!'],
  [
    'e16',
    '{{ eq "a" 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <eq "a" 1>: error calling eq: incompatible types for comparison>',
  ],
  [
    'e17',
    '{{ lt true false }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <lt true false>: error calling lt: invalid type for comparison>',
  ],
  [
    'e18',
    '{{ slice $labels 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <slice $labels 1>: error calling slice: can\'t slice item of type map[string]string>',
  ],
  ['e19', '{{ index $labels }}', 'map[__name__:m instance:i:9100 job:j]'],
  [
    'e20',
    '{{ .Labels.job.x }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:122: executing "__alert_X" at <.Labels.job.x>: can\'t evaluate field x in type string>',
  ],
  ['e21', '{{ $value | humanize }}', '1.235M'],
  [
    'e22',
    '{{ humanize "0x10" }} {{ humanize "1_000" }} {{ humanize "Inf" }} {{ humanize "1e400" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize "0x10">: error calling humanize: strconv.ParseFloat: parsing "0x10": invalid syntax>',
  ],
  ['e23', '{{ template "x" }}{{ define "x" }}X{{ end }}', 'X'],
  [
    'e24',
    '{{ printf "%5.1f|%-8.3s|%08.3f|%+d|% d|%x" -2.25 "abcdef" -3.14159 5 5 "hi" }}',
    ' -2.2|abc     |-003.142|+5| 5|6869',
  ],
  ['e25', '{{ printf "%d %!" }}', '%!d(MISSING) %!!(MISSING)'],
  ['e26', '{{ printf "%" }}', '%!(NOVERB)'],
  ['e27', '{{ printf "%z" 1 }}', '%!z(int=1)'],
  ['e28', '{{ (toTime 1600000000).Unix }}', '1600000000'],
  [
    'e29',
    '{{ toTime "x" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <toTime "x">: error calling toTime: strconv.ParseFloat: parsing "x": invalid syntax>',
  ],
  [
    'e30',
    '{{ humanizeTimestamp 1e12 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanizeTimestamp 1e12>: error calling humanizeTimestamp: 1e+12 cannot be represented as a nanoseconds timestamp since it overflows int64>',
  ],
  [
    'e31',
    '{{ reReplaceAll "[[:digit:]]+" "#" "a12b3" }} {{ match "^\\\\d+$" "123" }} {{ reReplaceAll "(?s)a.b" "X" "a\\nb" }} {{ reReplaceAll "a.b" "X" "a\\nb a\\rb" }}',
    'a#b# true X a\nb X',
  ],
  ['e32', '{{ reReplaceAll "(\\\\w+)@(\\\\w+)" "$2 at $1 $$ $x ${1}_" "joe@host" }}', 'host at joe $  joe_'],
  ['e33', '{{ sortByLabel "job" (query "up") | len }}', '2'],
  ['e34', '{{ $labels.job | len }}', '1'],
  ['e35', '{{ html (args 1).x 3 }}', '&lt;no value&gt;3'],
  ['e36', '{{ print (args).x }}|{{ printf "%v" (args).x }}', '<nil>|<nil>'],
  ['e37', '{{ println }}', '\n'],
  ['e38', '{{ js "a\\u2028b\\tc`" }}', 'a\\u2028b\\u0009c`'],
  ['e39', '{{ with $x := $labels.job }}{{ $x }}{{ end }}', 'j'],
  ['e40', '{{ 3 | not }}', 'false'],
  ['e41', '{{ or 0 }} {{ and 1 }}', '0 1'],
  ['e42', '{{ index (args "a" "b") "arg1" }}', 'b'],
  ['e43', '{{ "x" | eq "x" }}', 'true'],
  ['e44', '{{ $value | printf "%.3g" }}', '1.23e+06'],
  ['e45', '{{ range $i, $s := query "up" }}{{ $i }}:{{ $s.Value }} {{ end }}', '0:1 1:0 '],
  [
    'e46',
    "{{ 1.5 }} {{ 1e3 }} {{ 07 }} {{ 0b101 }} {{ 1_000 }} {{ -0 }} {{ 'x' }}",
    '1.5 1000 7 5 1000 0 120',
  ],
  [
    't1',
    '{{ (toTime 1600000000.123).Unix }} {{ (toTime 1600000000.123).UnixMilli }} {{ (toTime 1600000000).Format "2006-01-02T15:04:05Z07:00 Mon Jan _2 3:4:5 PM .000 .999 002 -0700 MST" }}',
    '1600000000 1600000000122 2020-09-13T12:26:40Z Sun Sep 13 12:26:40 PM .000  257 +0000 UTC',
  ],
  [
    't2',
    '{{ (toTime 1600000000).Month }} {{ (toTime 1600000000).Weekday }} {{ (toTime 1600000000).Year }} {{ (toTime 1600000000).YearDay }} {{ (toTime 1600000000.5).Format "January 2, 2006 15:04:05.999999" }}',
    'September Sunday 2020 257 September 13, 2020 12:26:40.5',
  ],
  [
    't3',
    '{{ (toTime 1600000000).Format }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:123: executing "__alert_X" at <1600000000>: wrong number of args for Format: want 1 got 0>',
  ],
  [
    't4',
    '{{ (toTime 1600000000).Nope }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:123: executing "__alert_X" at <1600000000>: can\'t evaluate field Nope in type *time.Time>',
  ],
  ['t5', '{{ toTime 1600000000 | printf "%v|%s" }}', '2020-09-13 12:26:40 +0000 UTC|%!s(MISSING)'],
  [
    'x1',
    '{{ $x = 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:120: executing "__alert_X" at <1>: undefined variable: $x>',
  ],
  [
    'x2',
    '{{ range 3 }}x{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:121: executing "__alert_X" at <3>: range can\'t iterate over 3>',
  ],
  [
    'x3',
    'é{{ index $labels 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:117: executing "__alert_X" at <index $labels 1>: error calling index: value has type int; should be string>',
  ],
  [
    'x4',
    '{{ define "t" }}\n  {{ index . 5 }}{{ end }}{{ template "t" "ab" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:2:5: executing "t" at <index . 5>: error calling index: index out of range: 5>',
  ],
  [
    'x5',
    '{{ nil }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <nil>: nil is not a command>',
  ],
  [
    'x6',
    '{{ .Labels 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <.Labels>: Labels has arguments but cannot be invoked as function>',
  ],
  [
    'x7',
    '{{ $labels.job 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:122: executing "__alert_X" at <$labels.job>: job is not a method but has arguments>',
  ],
  ['x8', '{{ . }}', '{map[__name__:m instance:i:9100 job:j] map[]  1.234567e+06}'],
  ['x9', '{{ .Value | printf "%.1f" }}', '1234567.0'],
  ['x10', '{{ $ }}', '{map[__name__:m instance:i:9100 job:j] map[]  1.234567e+06}'],
  [
    'x11',
    '{{ range $i, $v := query "up" }}{{ $i }}{{ $v }}|{{ end }}',
    '0{map[__name__:up instance:h2:80 job:b] 1}|1{map[__name__:up instance:h1:80 job:a] 0}|',
  ],
  ['x12', '{{ with $v := 0 }}x{{ else }}{{ $v }}{{ end }}', '0'],
  ['x14', '{{ index (query "up") 0 | value }}', '1'],
  ['x15', '{{ (first (query "up")).Labels.job }}', 'b'],
  ['x16', '{{ template "t" }}{{ block "t" . }}in{{ end }}', 'inin'],
  [
    'x17',
    '{{ len 3 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <len 3>: error calling len: len of type int>',
  ],
  [
    'x18',
    '{{ index 3 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <index 3 1>: error calling index: can\'t index item of type int>',
  ],
  [
    'x19',
    '{{ slice "abc" 2 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <slice "abc" 2 1>: error calling slice: invalid slice index: 2 > 1>',
  ],
  [
    'x20',
    '{{ eq $labels $labels }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <eq $labels $labels>: error calling eq: non-comparable type map[__name__:m instance:i:9100 job:j]: map[string]string>',
  ],
  [
    'x21',
    '{{ humanize nil }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <humanize nil>: error calling humanize: can\'t convert <nil> to float>',
  ],
  [
    'x22',
    '{{ printf }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <printf>: wrong number of args for printf: want at least 1 got 0>',
  ],
  [
    'x23',
    '{{ printf 1 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:122: executing "__alert_X" at <1>: expected string; found 1>',
  ],
  [
    'x24',
    '{{ humanize1024 "2048" }} {{ humanize -1500 }} {{ humanize 0.5 }} {{ humanizeDuration 86400.5 }} {{ humanizeDuration 0.0000012 }}',
    '2ki -1.5k 500m 1d 0h 0m 0s 1.2us',
  ],
  ['x25', '{{ with query "nothing" }}has{{ else }}none{{ end }}', 'none'],
  ['x26', '{{ range query "nothing" }}x{{ else }}none{{ end }}', 'none'],
  ['x27', '{{ $externalLabels }} {{ $externalURL }}|{{ .ExternalURL }}', 'map[] |'],
  ['x28', '{{ title "" }}{{ stripPort "" }}{{ stripDomain "" }}', ''],
  ['x29', '{{ urlquery "x y" 3 }} {{ html 1 2 }} {{ js 3 }}', 'x+y3 1 2 3'],
  [
    'x30',
    '{{ ne 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ eq 1 2 3 1 }} {{ lt 1 2.0 }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:175: executing "__alert_X" at <lt 1 2.0>: error calling lt: incompatible types for comparison>',
  ],
  ['r1', '{{ reReplaceAll "a(?i)b" "X" "aB AB ab" }}', 'X AB X'],
  ['r2', '{{ reReplaceAll "\\\\pL+" "X" "héllo 12 wörld" }}', 'X 12 X'],
  ['r3', '{{ reReplaceAll "\\\\Qa.b\\\\E" "X" "a.b axb" }}', 'X axb'],
  ['r4', '{{ reReplaceAll "^" ">" "a\\nb" }}|{{ reReplaceAll "(?m)^" ">" "a\\nb" }}', '>a\nb|>a\n>b'],
  ['r5', '{{ reReplaceAll "x*" "-" "abc" }}', '-a-b-c-'],
  ['r6', '{{ reReplaceAll "" "-" "héé" }}', '-h-é-é-'],
  ['r7', '{{ reReplaceAll "[^a]" "_" "a€b" }}', 'a__'],
  [
    'r8',
    '{{ reReplaceAll "(?P<first>\\\\w+)\\\\.(?P<second>\\\\w+)" "${second}.${first}" "foo.bar" }}',
    'bar.foo',
  ],
  [
    'r9',
    '{{ match "a**" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "a**" "a">: error calling match: error parsing regexp: invalid nested repetition operator: `**`>',
  ],
  [
    'r10',
    '{{ match "*a" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "*a" "a">: error calling match: error parsing regexp: missing argument to repetition operator: `*`>',
  ],
  [
    'r11',
    '{{ match "[a" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "[a" "a">: error calling match: error parsing regexp: missing closing ]: `[a`>',
  ],
  [
    'r12',
    '{{ match "a)" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "a)" "a">: error calling match: error parsing regexp: unexpected ): `a)`>',
  ],
  [
    'r13',
    '{{ match "\\\\1" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "\\\\1" "a">: error calling match: error parsing regexp: invalid escape sequence: `\\1`>',
  ],
  [
    'r14',
    '{{ match "(?=a)" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "(?=a)" "a">: error calling match: error parsing regexp: invalid or unsupported Perl syntax: `(?=`>',
  ],
  [
    'r15',
    '{{ match "a{1001}" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "a{1001}" "a">: error calling match: error parsing regexp: invalid repeat count: `{1001}`>',
  ],
  [
    'r16',
    '{{ match "\\\\" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "\\\\" "a">: error calling match: error parsing regexp: trailing backslash at end of expression: ``>',
  ],
  [
    'r17',
    '{{ reReplaceAll "(a" "" "" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <reReplaceAll "(a" "" "">: error calling reReplaceAll: regexp: Compile(`(a`): error parsing regexp: missing closing ): `(a`>',
  ],
  [
    'r18',
    '{{ match "[[:alpha:]]+" "abc" }} {{ match "\\\\z" "" }} {{ match "^\\\\s$" "\\u000b" }} {{ match "^.$" "\\r" }}',
    'true true false true',
  ],
  ['r19', '{{ reReplaceAll "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)" "$10|$1x|${1}x" "abcdefghij" }}', 'j||ax'],
  [
    'r20',
    '{{ match "a{2,1}" "a" }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <match "a{2,1}" "a">: error calling match: error parsing regexp: invalid repeat count: `{2,1}`>',
  ],
  ['r21', '{{ reReplaceAll "a+?" "X" "aaa" }} {{ reReplaceAll "(?U)a+" "X" "aaa" }}', 'XXX XXX'],
  ['r22', '{{ match "x{0}" "" }} {{ match "[]a]" "]" }} {{ match "[a-]" "-" }}', 'true true true'],
  [
    'u1',
    '{{ reReplaceAll "(?U)a+?" "X" "aaa" }} {{ reReplaceAll "(?U:a+)a" "X" "aaa" }} {{ reReplaceAll "((?U)a+)(a*)" "[$1|$2]" "aaa" }} {{ reReplaceAll "(?U)a{1,2}" "X" "aaa" }}',
    'X Xa [a|aa] XXX',
  ],
  [
    'f1',
    '{{ printf "%#v|%#v|%#v" $labels "s" 1.5 }}',
    'map[string]string{"__name__":"m", "instance":"i:9100", "job":"j"}|"s"|1.5',
  ],
  [
    'f2',
    '{{ printf "%08.3f|%6.2f%%|%-6d|%3c|%.0f|%.0f|%.1f|%e|%g|%G|%E" -3.14159 12.345 42 65 2.5 3.5 0.05 0.0 0.00001 1e-10 123456.789 }}',
    '-003.142| 12.35%|42    |  A|2|4|0.1|0.000000e+00|1e-05|1E-10|1.234568E+05',
  ],
  [
    'f3',
    '{{ printf "%.3s|%5q|%x|% x|%#x|%+q|%t|%v|%X" "héllo" "a" "hé" "hé" 255 "é" 1 true "hi" }}',
    'hél|  "a"|68c3a9|68 c3 a9|0xff|"\\u00e9"|%!t(int=1)|true|6869',
  ],
  [
    'f4',
    '{{ humanize 999.95 }} {{ humanize 999950 }} {{ humanize 1e-30 }} {{ humanize -1234 }} {{ humanize 1e27 }} {{ humanize1024 -2048 }} {{ humanize1024 1e30 }}',
    '1000 1000k 1e-06y -1.234k 1000Y -2ki 8.272e+05Yi',
  ],
  [
    'f5',
    '{{ humanizeDuration 3599.9999 }} {{ humanizeDuration 1.23456 }} {{ humanizeDuration -0.5 }} {{ humanizeDuration 0.000000001 }} {{ humanizePercentage 0.123456 }} {{ humanizePercentage "0.5" }}',
    '59m 59s 1.235s -500ms 1ns 12.35% 50%',
  ],
  [
    'f6',
    '{{ humanizeTimestamp -1.5 }} {{ humanizeTimestamp 1e9 }} {{ humanizeTimestamp 1234567890.000001 }} {{ toTime -1 }}',
    '1969-12-31 23:59:58.5 +0000 UTC 2001-09-09 01:46:40 +0000 UTC 2009-02-13 23:31:30 +0000 UTC 1969-12-31 23:59:59 +0000 UTC',
  ],
  [
    'f7',
    '{{ printf "%v %v %v %v" 1e20 1e21 123456789.0 0.000012345 }}',
    '1e+20 1e+21 1.23456789e+08 1.2345e-05',
  ],
  [
    'f8',
    '{{ printf "%5.2v|%.3v|%10.4e|%-10.1f|" 3.14159 3.14159 1234.5678 2.25 }}',
    '  3.1|3.14|1.2346e+03|2.2       |',
  ],
  [
    'f9',
    '{{ printf "%d|%5d|%-5d|%05d|%+05d|%x|%o|%b|%.3d" -7 -7 -7 -7 7 -255 8 5 7 }}',
    '-7|   -7|-7   |-0007|+0007|-ff|10|101|007',
  ],
  [
    'f10',
    '{{ printf "%s" (toTime 0) }}|{{ printf "%v" (safeHtml "<x>") }}|{{ printf "%d" (index "a" 0) }}|{{ index "a" 0 }}',
    '1970-01-01 00:00:00 +0000 UTC|<x>|97|97',
  ],
  [
    'f11',
    '{{ printf "%6.3v|%v|%.2v" "abcdef" (args 1 "x" 2.5 true) "héllo" }}',
    '   abc|map[arg0:1 arg1:x arg2:2.5 arg3:true]|hé',
  ],
  [
    'f12',
    '{{ print 1.0 2.5 "x" nil true }}|{{ print (query "up" | first) }}',
    '1 2.5x<nil> true|&{map[__name__:up instance:h2:80 job:b] 1}',
  ],
  [
    'g1',
    '{{ printf "%#v|%#v|%#v|%#v|%#v|%#v|%#v|%#v" 1.0 1e6 1e20 1e21 3 true (args 1 "x" nil) 0.00001 }}',
    '1|1e+06|1e+20|1e+21|3|true|map[string]interface {}{"arg0":1, "arg1":"x", "arg2":interface {}(nil)}|1e-05',
  ],
  [
    'g3',
    '{{ printf "%#v" (first (query "up")) }}',
    '&template.sample{Labels:map[string]string{"__name__":"up", "instance":"h2:80", "job":"b"}, Value:1}',
  ],
  [
    'g4',
    '{{ printf "%#v|%#v" (safeHtml "x") (toTime 0) }}',
    '"x"|time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)',
  ],
  [
    'w3',
    '{{ range . }}x{{ end }}',
    '<error expanding template: error executing template __alert_X: template: __alert_X:1:121: executing "__alert_X" at <.>: range can\'t iterate over {map[__name__:m instance:i:9100 job:j] map[]  1.234567e+06}>',
  ],
  ['w4', '{{ . }}', '{map[__name__:m instance:i:9100 job:j] map[]  1.234567e+06}'],
  ['w5', '  a  \n{{- 1 }}\n  {{ 2 -}}\n\n  b', '  a1\n  2b'],
  ['w6', '{{- "x" -}}', 'x'],
  ['w7', 'a\r\n{{- 1 -}}\r\nb', 'a1b'],
  ['w8', '{{ if and $labels.job (eq $labels.job "j") }}ok{{ end }}', 'ok'],
  [
    'w9',
    '{{ range $i, $e := query "up" }}{{ if $i }}, {{ end }}{{ $e.Labels.instance }}{{ end }}',
    'h2:80, h1:80',
  ],
  ['w10', '{{ $n := 0 }}{{ range $labels }}{{ $n = 1 }}{{ end }}{{ $n }}', '1'],
  ['w11', '{{ with $labels }}{{ .job }}{{ end }}', 'j'],
  ['w14', '{{ (query "up" | first).Labels.job }}', 'b'],
];

describe('expandTemplate renders as Prometheus 2.42 does', () => {
  it.each(PROMTOOL_OBSERVED)('%s', async (_case, template, expected) => {
    expect(await expandTemplate('__alert_X', template, context(1234567))).toBe(expected);
  });

  it.each([
    [0.1, '0.1|100m|100ms|10%|0.10|0.1'],
    [1e-7, '1e-07|100n|100ns|1e-05%|0.00|1e-07'],
    [Number.NaN, 'NaN|NaN|NaN|NaN%|NaN|NaN'],
    [Number.POSITIVE_INFINITY, '+Inf|+Inf|+Inf|+Inf%|+Inf|+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf|-Inf|-Inf|-Inf%|-Inf|-Inf'],
    [42, '42|42|42s|4200%|42.00|42'],
    [100000, '100000|100k|1d 3h 46m 40s|1e+07%|100000.00|100000'],
    [1e21, '1e+21|1Z|-106751991167300d -15h -30m -8s|1e+23%|1000000000000000000000.00|1e+21'],
    [-0.5, '-0.5|-500m|-500ms|-50%|-0.50|-0.5'],
  ])('$value of %s', async (value, expected) => {
    const template =
      '{{ $value }}|{{ humanize $value }}|{{ humanizeDuration $value }}|{{ humanizePercentage $value }}|{{ printf "%.2f" $value }}|{{ .Value }}';
    expect(await expandTemplate('__alert_X', template, context(value))).toBe(expected);
  });

  it.each([
    ['{{ if }}', 'template: __alert_X:1: missing value for if'],
    ['{{ 1 }', 'template: __alert_X:1: unexpected "}" in operand'],
    ['{{ foo }}', 'template: __alert_X:1: function "foo" not defined'],
    ['{{ $nope }}', 'template: __alert_X:1: undefined variable "$nope"'],
    ['{{ tmpl "x" . }}', 'template: __alert_X:1: function "tmpl" not defined'],
    ['{{ 1', 'template: __alert_X:1: unclosed action'],
    ['{{ if 1 }}x', 'template: __alert_X:1: unexpected EOF'],
    ['{{ $x := }}', 'template: __alert_X:1: missing value for command'],
    ['{{ | x }}', 'template: __alert_X:1: unexpected "|" in command'],
    ['{{ .a | 1 }}', 'template: __alert_X:1: non executable command in pipeline stage 2'],
    ['{{ (1 }}', 'template: __alert_X:1: unclosed left paren'],
    ['{{ 1) }}', 'template: __alert_X:1: unexpected ")" in command'],
    ['{{ template x }}', 'template: __alert_X:1: unexpected "x" in template clause'],
    ['{{ range $a, $b, $c := . }}{{ end }}', 'template: __alert_X:1: too many declarations in range'],
    ["{{ 'ab' }}", "template: __alert_X:1: malformed character constant: 'ab'"],
    ['{{ "\\q" }}', 'template: __alert_X:1: invalid syntax'],
    ['{{ end }}', 'template: __alert_X:1: unexpected {{end}}'],
    ['{{ 1.2.3 }}', 'template: __alert_X:1: unexpected ".3" in operand'],
    ['{{ .a.1 }}', 'template: __alert_X:1: unexpected ".1" in operand'],
    ['{{ x := 1 }}', 'template: __alert_X:1: function "x" not defined'],
    ['{{ @ }}', 'template: __alert_X:1: unexpected "@" in command'],
    ['{{ if 1 }}{{ else }}{{ else }}{{ end }}', 'template: __alert_X:1: expected end; found {{else}}'],
    ['{{ with 1 }}{{ else if 2 }}{{ end }}', 'template: __alert_X:1: unexpected <if> in input'],
    ['{{ true.x }}', 'template: __alert_X:1: unexpected . after term "true"'],
    ['{{ 99999999999999999999 }}', 'template: __alert_X:1: integer overflow: "99999999999999999999"'],
    ['{{ /* c */ }}', 'template: __alert_X:1: unexpected "/" in command'],
    ['{{ else }}', 'template: __alert_X:1: unexpected {{else}}'],
    ['{{ 1x }}', 'template: __alert_X:1: bad number syntax: "1x"'],
    ['{{ "abc }}', 'template: __alert_X:1: unterminated quoted string'],
    ['{{/* x }}', 'template: __alert_X:1: unclosed comment'],
    ['{{ break }}', 'template: __alert_X:1: {{break}} outside {{range}}'],
    ['{{ define "a" }}x', 'template: __alert_X:1: unexpected EOF'],
    ['line\n{{ if 1 }}\n{{ range }}', 'template: __alert_X:3: missing value for range'],
    ['{{ if 0 }}a{{ else with 2 }}b{{ end }}', 'template: __alert_X:1: unexpected <with> in else'],
    ['{{ with 0 }}a{{ else with 2 }}b{{ end }}', 'template: __alert_X:1: unexpected <with> in else'],
    [
      '{{ template "x" . }}{{ define "x" }}{{ .Labels.job }}/{{ $value }}{{ end }}',
      'template: __alert_X:1: undefined variable "$value"',
    ],
    ['{{ define "x" }}{{ $labels }}{{ end }}', 'template: __alert_X:1: undefined variable "$labels"'],
    ['{{ if 1 }}{{ else }}{{ else if 2 }}{{ end }}', 'template: __alert_X:1: expected end; found {{else}}'],
  ])('rejects %s when rules load, and renders the error', async (template, error) => {
    expect(checkTemplate('__alert_X', template)).toBe(error);
    expect(await expandTemplate('__alert_X', template, context(1))).toBe(
      `<error expanding template: error parsing template __alert_X: ${error}>`,
    );
  });

  it('accepts a valid template', () => {
    expect(checkTemplate('__alert_X', '{{ range $k, $v := $labels }}{{ $k }}{{ end }}')).toBeUndefined();
  });
});

// promtool runs templates without an external URL, and 2.42 lacks urlQueryEscape:
// these expectations come from Prometheus's template reference.
describe('functions checked against the documentation', () => {
  it('externalURL and pathPrefix come from the configured URL', async () => {
    const ctx = context(1, { externalURL: 'http://lookout.example:9090/prefix' });
    expect(await expandTemplate('a', '{{ externalURL }} {{ pathPrefix }} {{ $externalURL }}', ctx)).toBe(
      'http://lookout.example:9090/prefix /prefix http://lookout.example:9090/prefix',
    );
  });

  it('urlQueryEscape escapes like url.QueryEscape', async () => {
    expect(await expandTemplate('a', '{{ urlQueryEscape "a b&c/d" }}', context(1))).toBe('a+b%26c%2Fd');
  });

  it('query errors render as Prometheus renders a failed function', async () => {
    const ctx = context(1, {
      query: async () => {
        throw new Error('query timed out');
      },
    });
    expect(await expandTemplate('__alert_X', '{{ query "up" }}', ctx)).toBe(
      '<error expanding template: error executing template __alert_X: template: __alert_X:1:115: executing "__alert_X" at <query "up">: error calling query: query timed out>',
    );
  });
});

describe('limits against hostile templates', () => {
  afterEach(() => configureTemplates(DEFAULT_TEMPLATE_SETTINGS));

  it('stops output beyond the limit', async () => {
    configureTemplates({ maxOutputBytes: 2000 });
    const text = '{{ range $labels }}{{ range $labels }}{{ printf "%0500d" 1 }}{{ end }}{{ end }}';
    expect(await expandTemplate('big', text, context(1))).toBe(
      '<error expanding template: error executing template big: template: big: output exceeds 2000 bytes>',
    );
  });

  it('stops a long range quickly', async () => {
    const text = `${'{{ range $labels }}'.repeat(18)}${'{{ end }}'.repeat(18)}`;
    const started = Date.now();
    expect(await expandTemplate('loop', text, context(1))).toBe(
      `<error expanding template: error executing template loop: template: loop: execution exceeds ${DEFAULT_TEMPLATE_SETTINGS.maxSteps} steps>`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops unbounded template recursion', async () => {
    const text = '{{ define "f" }}{{ template "f" . }}{{ end }}{{ template "f" . }}';
    const result = await expandTemplate('rec', text, context(1));
    expect(result).toContain('exceeded maximum template depth (100)');
    expect(
      result.startsWith('<error expanding template: error executing template rec: template: rec:1:'),
    ).toBe(true);
  });

  it('refuses nesting deeper than the stack allows, and recursion through nested blocks stops at the depth limit', async () => {
    const deep = 20_000;
    expect(checkTemplate('n', `{{ ${'('.repeat(deep)}1${')'.repeat(deep)} }}`)).toBe(
      'template: n:1: max expression depth exceeded',
    );
    expect(checkTemplate('n', `${'{{ if 1 }}'.repeat(deep)}${'{{ end }}'.repeat(deep)}`)).toBe(
      'template: n:1: max expression depth exceeded',
    );
    const blocks = 400;
    const text = `{{ define "t" }}${'{{ if 1 }}'.repeat(blocks)}{{ template "t" }}${'{{ end }}'.repeat(blocks)}{{ end }}{{ template "t" }}`;
    expect(await expandTemplate('n', text, context(1))).toContain('exceeded maximum template depth (100)');
  });

  it('gives up when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await expandTemplate('a', '{{ 1 }}', context(1), controller.signal)).toBe(
      '<error expanding template: error executing template a: template: a: execution aborted>',
    );
  });
});

describe('regular expressions that make JavaScript backtrack', () => {
  afterEach(() => configureTemplates(DEFAULT_TEMPLATE_SETTINGS));

  it('still match as Go matches', async () => {
    const text = '{{ reReplaceAll "(a|b)+c" "[$1]" "xababc" }} {{ match "^(\\\\w+\\\\s?)*$" "foo bar" }}';
    expect(await expandTemplate('re', text, context(1))).toBe('x[b] true');
  });

  it('stop after the configured time', async () => {
    configureTemplates({ regexpTimeoutMs: 200 });
    const started = Date.now();
    const result = await expandTemplate('re', `{{ match "(a+)+$" "${'a'.repeat(40)}!" }}`, context(1));
    expect(result).toBe(
      '<error expanding template: error executing template re: template: re:1:115: executing "re" at <match "(a+)+$" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!">: error calling match: regular expression "(a+)+$" ran longer than 200 ms>',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await expandTemplate('re', '{{ reReplaceAll "(x+)+" "y" "xx" }}', context(1))).toBe('y');
  });
});
