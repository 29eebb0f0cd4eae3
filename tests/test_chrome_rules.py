"""Site chrome (issue 16, kind 2): a table of invented lines per rule of the default corpus
config. Every default rule must have an example here (a rule without one fails the coverage
test), every example must be caught by some rule of its field, and article sentences that look
similar must be caught by none."""

import re

import pytest

from stance.config import DataConfig
from stance.corpus.ingest import IngestReport, ingest
from stance.corpus.pages import PageRules

# (field, line) for whole-line fields; (field, line with an inline piece, what is cut out).
WHOLE_LINE = {
    "boilerplate": [
        "Advertisement", "Story continues below this ad", "Try Our AI Features", "Explore what Foo AI can do for you:",
        "Comments", "No comments yet...", "Leave a comment", "12 comments", "Live Events", "logo",
        "Orange background", "&w=3840&q=100)", "Also read: Ferry strike ends", "Read more »", "Download the app",
        "Get Started Now: Download the App", "Ready to dive into the news? Download our app today", "app-storeplay-store",
        "By", "Follow us on Mastodon", "Subscribe now", "Share this story with friends", "Your trusted source for news",
        "[Image via Harbour Wire]", "*Jan Novak is a fellow at the Harbour Institute.*",
        # consent banners
        "We use cookies to improve your experience on our site.", "This website uses cookies.",
        "Click here to accept all cookies or manage your settings", "Cookie settings", "Privacy preferences",
        "Accept all", "Agree and close", "I agree", "We and our 842 partners value your privacy",
        "By continuing to browse you agree to our use of cookies and our privacy policy.",
        "Do not sell or share my personal information",
        # newsletters and paywalls
        "Sign up for our morning briefing newsletter", "Get the Harbour Daily newsletter in your inbox",
        "Enter your email address", "Email address", "Already a subscriber? Log in", "Sign in to continue reading",
        "Log in", "This article is for paid subscribers only.", "Support independent journalism from the coast",
        "Become a member today", "You have 2 free articles left this month", "To continue reading, please subscribe.",
        "Unlock unlimited access for 1 euro",
        # share bars
        "Share", "Share this article:", "Facebook Twitter WhatsApp Email", "Share | Tweet | Email | Print",
        "Copy link", "Link copied", "34 shares",
        # teasers
        "More from Harbour Wire", "Latest news on the ferry strike",
        # photo credits and captions
        "Photo: Jan Novak / Harbour Wire", "Image credit: Harbour Wire archive", "File photo: the old customs house",
        "Photo by Jan Novak", "Pictures courtesy of the port authority", "Credit: Jan Novak", "Courtesy: Harbour Wire",
        "Jan Novak/AFP via Getty Images", "(AP Photo/Jan Novak)", "Jan Novak for Getty Images",
    ],
    "stop_markers": [
        "Recent posts", "Most read", "Trending now", "You may also like", "Related", "Related coverage:",
        "More on this story", "Recommended for you", "Read next", "Up next", "Editor's picks", "Editors' choice",
        "Don't miss",
    ],
    "related_markers": ["Related Articles", "Related stories"],
}
INLINE = [
    ("The panel met. STORY CONTINUES BELOW THIS AD The vote was delayed.", "STORY CONTINUES BELOW THIS AD"),
    ("The panel met and read more later.", "read more"),
    ("File-A view of the port (Photo: Harbour Wire) The vote was delayed.", "File-A view of the port (Photo: Harbour Wire)"),
    ("The port reopened (Image credit: Harbour Wire) on Monday.", "(Image credit: Harbour Wire)"),
    ("The port reopened [Photo via Harbour Wire] on Monday.", "[Photo via Harbour Wire]"),
    ("The port reopened. More from World The vote was delayed.", "More from World"),
    ("The port reopened (Photo by Jan Novak) on Monday.", "(Photo by Jan Novak)"),
    ("The port reopened (AP Photo/Jan Novak) on Monday.", "(AP Photo/Jan Novak)"),
    ("The port reopened (JAN NOVAK/AFP) on Monday.", "(JAN NOVAK/AFP)"),
    ("The port reopened [Photo credit: Jan Novak] on Monday.", "[Photo credit: Jan Novak]"),
]
TAIL = [
    ("The vote was delayed. About the Author Jan writes about ports.", "About the Author"),
    ("The vote was delayed. Also Download the Harbour App for news.", "Also Download the Harbour App"),
    ("The vote was delayed. Get Latest Updates on ferries.", "Get Latest Updates on"),
    ("The vote was delayed. This article is authored by Jan Novak.", "This article is authored by"),
    ("The vote was delayed. Jan Novak is a Senior Fellow at the institute.", "Jan Novak is a Senior Fellow"),
]
# Article sentences near the chrome families: no rule may take them.
ARTICLE = [
    "The ministry said it would share intelligence with its allies under the new agreement.",
    "Photographs by the agency showed damaged warehouses along the northern quay.",
    "Officials accepted all the proposals after a long night of talks in the customs house.",
    "Critics said the new privacy policy for border checks went too far.",
    "The envoy said talks would resume next week, according to a statement.",
    "Subscribers to the ferry service complained about the new timetable.",
    "Recommended changes to the treaty were sent to parliament on Tuesday.",
    "More than 200 people attended the meeting at the harbour.",
    "The newspaper's editor picked the story for its front page on Sunday.",
]


RULE_SETS = {"boilerplate": "boilerplate", "stop_markers": "stop", "related_markers": "related"}


@pytest.fixture(scope="module")
def rules(defaults):
    return PageRules(defaults[0])


@pytest.mark.parametrize("field, line", [(f, line) for f, lines in WHOLE_LINE.items() for line in lines])
def test_each_chrome_example_is_caught_by_its_rules(rules, field, line):
    assert rules.first(getattr(rules, RULE_SETS[field]), line)


@pytest.mark.parametrize("line, cut", INLINE)
def test_inline_chrome_is_cut_out_of_the_line(rules, line, cut):
    found = [line[m.start():m.end()] for _, regex in rules.inline for m in regex.finditer(line)]
    assert cut in found


@pytest.mark.parametrize("line, cut", TAIL)
def test_tail_chrome_cuts_the_rest_of_the_line(rules, line, cut):
    starts = [m.start() for _, regex in rules.tail for m in [regex.search(line)] if m]
    assert starts and line[min(starts):].startswith(cut)


@pytest.mark.parametrize("sentence", ARTICLE)
def test_article_sentences_are_left_alone(rules, sentence):
    for field in ("boilerplate", "stop", "related"):
        assert rules.first(getattr(rules, field), sentence) is None, field
    assert not [m for _, regex in rules.inline for m in regex.finditer(sentence)]
    assert not [m for _, regex in rules.tail for m in [regex.search(sentence)] if m]


def test_every_default_rule_has_an_example(defaults):
    corpus = defaults[0]
    missing = []
    for field in WHOLE_LINE:
        for pattern in getattr(corpus, field):
            regex = re.compile(rf"(?:{pattern})", re.IGNORECASE)
            if not any(regex.fullmatch(line) for line in WHOLE_LINE[field]):
                missing.append((field, pattern))
    for field, table in (("inline_boilerplate", INLINE), ("tail_boilerplate", TAIL)):
        for pattern in getattr(corpus, field):
            if not any(re.search(pattern, line) for line, _ in table):
                missing.append((field, pattern))
    assert not missing


def test_a_page_full_of_chrome_keeps_only_its_article(tmp_path, defaults):
    corpus, schema = defaults
    body = ["The harbour board met on Monday to discuss the ferry timetable for the winter months.",
            "Officials said the vote on fees would be held next week after a second round of talks."]
    chrome = [line for line in WHOLE_LINE["boilerplate"] if line.lower() != "by"]
    lines = ["Ferry talks resume", "", body[0], ""] + [x for line in chrome for x in (line, "")] + [body[1], "",
             "Recommended for you", "", "A teaser about another story that must not be kept in the corpus."]
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "page.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = IngestReport()
    frame = ingest(DataConfig(path=str(tmp_path / "p")), corpus, schema, report)
    assert list(frame["text"]) == body
