"""A rich-text document as the bundled editor writes it, for tests of HTML and text.

Made by y-prosemirror's ``prosemirrorToYXmlFragment`` with the schema of
``client/src/rich-text.js`` (basic nodes and marks plus lists) from this ProseMirror
document: a level-2 heading ``Title <&>``; a paragraph ``plain `` + ``bold`` (strong)
+ ``both`` (strong, em) + ``code`` (code) + ``link`` (a link to
``https://example.com/?a=1&b="2"``), a hard break and ``after break``; a blockquote;
a bullet list ``one``, ``two``; an ordered list from 3 with ``three``; a code block
``x < 1 && y``; a horizontal rule; an image; an empty paragraph.
"""

from __future__ import annotations

import base64

RICH_UPDATE = base64.b64decode(
    "ATeH+4LCCwAHAQtwcm9zZW1pcnJvcgMHaGVhZGluZwcAh/uCwgsABgQAh/uCwgsBCVRpdGxlIDwmPigAh/uCwgsA"
    "BWxldmVsAX0Ch4f7gsILAAMJcGFyYWdyYXBoBwCH+4LCCwwGBACH+4LCCw0GcGxhaW4ghof7gsILEwZzdHJvbmcC"
    "e32Eh/uCwgsUBGJvbGSGh/uCwgsYBnN0cm9uZwRudWxshIf7gsILGQEghof7gsILGgJlbQJ7fYaH+4LCCxsGc3Ry"
    "b25nAnt9hIf7gsILHARib3Rohof7gsILIAJlbQRudWxshof7gsILIQZzdHJvbmcEbnVsbISH+4LCCyIBIIaH+4LC"
    "CyMEY29kZQJ7fYSH+4LCCyQEY29kZYaH+4LCCygEY29kZQRudWxshIf7gsILKQEghof7gsILKgRsaW5rOHsiaHJl"
    "ZiI6Imh0dHBzOi8vZXhhbXBsZS5jb20vP2E9MSZiPVwiMlwiIiwidGl0bGUiOm51bGx9hIf7gsILKwRsaW5rhof7"
    "gsILLwRsaW5rBG51bGyHh/uCwgsNAwpoYXJkX2JyZWFrh4f7gsILMQYEAIf7gsILMgthZnRlciBicmVha4eH+4LC"
    "CwwDCmJsb2NrcXVvdGUHAIf7gsILPgMJcGFyYWdyYXBoBwCH+4LCCz8GBACH+4LCC0AGcXVvdGVkh4f7gsILPgML"
    "YnVsbGV0X2xpc3QHAIf7gsILRwMJbGlzdF9pdGVtBwCH+4LCC0gDCXBhcmFncmFwaAcAh/uCwgtJBgQAh/uCwgtK"
    "A29uZYeH+4LCC0gDCWxpc3RfaXRlbQcAh/uCwgtOAwlwYXJhZ3JhcGgHAIf7gsILTwYEAIf7gsILUAN0d2+Hh/uC"
    "wgtHAwxvcmRlcmVkX2xpc3QHAIf7gsILVAMJbGlzdF9pdGVtBwCH+4LCC1UDCXBhcmFncmFwaAcAh/uCwgtWBgQA"
    "h/uCwgtXBXRocmVlKACH+4LCC1QFb3JkZXIBfQOHh/uCwgtUAwpjb2RlX2Jsb2NrBwCH+4LCC14GBACH+4LCC18K"
    "eCA8IDEgJiYgeYeH+4LCC14DD2hvcml6b250YWxfcnVsZYeH+4LCC2oDCXBhcmFncmFwaAcAh/uCwgtrAwVpbWFn"
    "ZSgAh/uCwgtsA3NyYwF3GWh0dHBzOi8vZXhhbXBsZS5jb20vYS5wbmcoAIf7gsILbANhbHQBdwdBICJwaWMih4f7"
    "gsILawMJcGFyYWdyYXBoAA=="
)

RICH_HTML = (
    "<h2>Title &lt;&amp;&gt;</h2>"
    "<p>plain <strong>bold</strong> <em><strong>both</strong></em> <code>code</code> "
    '<a href="https://example.com/?a=1&amp;b=&quot;2&quot;">link</a><br>after break</p>'
    "<blockquote><p>quoted</p></blockquote>"
    "<ul><li><p>one</p></li><li><p>two</p></li></ul>"
    '<ol start="3"><li><p>three</p></li></ol>'
    "<pre><code>x &lt; 1 &amp;&amp; y</code></pre>"
    "<hr>"
    '<p><img src="https://example.com/a.png" alt="A &quot;pic&quot;"></p>'
    "<p></p>"
)
"""What ProseMirror's DOMSerializer makes of the document (the editor's ``getValue()``)."""
