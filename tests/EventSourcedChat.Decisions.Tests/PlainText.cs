using EventSourcedChat.Contracts.Messages;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>The plain-text form of a formatted message, which search indexes: the markup goes, the words stay.</summary>
public class PlainText
{
    [Theory]
    [InlineData("**bold** and __strong__", "bold and strong")]
    [InlineData("*italic* and _emphasis_", "italic and emphasis")]
    [InlineData("~~gone~~ now", "gone now")]
    [InlineData("***both*** at once", "both at once")]
    [InlineData("a **bold _nested_ phrase**", "a bold nested phrase")]
    public void Emphasis_and_strike_markers_go_and_their_words_stay(string markdown, string plain) =>
        Assert.Equal(plain, MessageText.Plain(markdown));

    [Theory]
    [InlineData("snake_case_name stays", "snake_case_name stays")]
    [InlineData("2*3*4 = 24", "2*3*4 = 24")]
    [InlineData("a * b and c _ d", "a * b and c _ d")]
    [InlineData("100% done, it's fine", "100% done, it's fine")]
    [InlineData(@"C:\temp\x", @"C:\temp\x")]
    public void A_marker_inside_a_word_or_alone_is_text(string markdown, string plain) =>
        Assert.Equal(plain, MessageText.Plain(markdown));

    [Fact]
    public void Inline_code_keeps_its_content_verbatim() =>
        Assert.Equal("run dotnet test --filter **Search** now", MessageText.Plain("run `dotnet test --filter **Search**` now"));

    [Fact]
    public void A_fenced_code_block_keeps_its_lines_without_the_fences_or_the_language() =>
        Assert.Equal("look:\nvar x = a * b; // **not bold**\nok", MessageText.Plain("look:\n```csharp\nvar x = a * b; // **not bold**\n```\nok"));

    [Theory]
    [InlineData("see [the docs](https://example.com/a_b_c) first", "see the docs (https://example.com/a_b_c) first")]
    [InlineData("<https://example.com/x_y_>", "https://example.com/x_y_")]
    [InlineData("open https://example.com/__init__.py please", "open https://example.com/__init__.py please")]
    [InlineData("[https://example.com](https://example.com)", "https://example.com")]
    [InlineData("mail [me](mailto:ada@example.com)", "mail me (mailto:ada@example.com)")]
    [InlineData("![a chart](https://example.com/c.png)", "a chart (https://example.com/c.png)")]
    public void A_link_keeps_its_text_and_its_url(string markdown, string plain) =>
        Assert.Equal(plain, MessageText.Plain(markdown));

    [Fact]
    public void Mentions_stay_ids() =>
        Assert.Equal("hi <@0123456789abcdef0123456789abcdef> see <#c_1_> and @here",
            MessageText.Plain("hi <@0123456789abcdef0123456789abcdef> see <#c_1_> and @here"));

    [Fact]
    public void Quote_and_bullet_markers_go() =>
        Assert.Equal("quoted line\nnested\none\ntwo\n3. three", MessageText.Plain("> quoted line\n> > nested\n- one\n* two\n3. three"));

    [Theory]
    [InlineData(@"\*not emphasis\*", "*not emphasis*")]
    [InlineData(@"a \_literal\_ underscore", "a _literal_ underscore")]
    public void Backslash_escapes_give_the_character(string markdown, string plain) =>
        Assert.Equal(plain, MessageText.Plain(markdown));

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("plain words", "plain words")]
    [InlineData("<script>alert(1)</script> secret & \"quoted\"", "<script>alert(1)</script> secret & \"quoted\"")]
    [InlineData("今日は東京で会議があります", "今日は東京で会議があります")]
    public void Text_without_markup_is_unchanged(string? markdown, string plain) =>
        Assert.Equal(plain, MessageText.Plain(markdown));
}
