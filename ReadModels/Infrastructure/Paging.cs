using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace EventSourcedChat.ReadModels.Infrastructure;

/// <summary>
/// Cursor paging of the lists (<c>?limit=</c> and an opaque <c>?cursor=</c>, as Slack's <c>conversations.list</c>): the
/// body stays the array it always was, and a next page is announced by a <c>Link: &lt;…&amp;cursor=…&gt;; rel="next"</c>
/// header (RFC 8288), absent on the last page. A cursor is the sort key of the last row served (keyset paging), so a
/// page costs one index range however deep it is.
/// </summary>
public static class Paging
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1_000;

    /// <summary>
    /// <c>?limit=</c> (default <see cref="DefaultLimit"/>, 1..<see cref="MaxLimit"/>) and <c>?cursor=</c> decoded to its
    /// <paramref name="parts"/> keys (null on the first page); false with a problem's detail when either is malformed.
    /// </summary>
    public static bool TryRead(HttpContext http, int parts, out int limit, out string[]? after, out string error)
    {
        after = null;
        error = "";
        if (!TryLimit(http, DefaultLimit, MaxLimit, out limit))
        {
            error = $"limit is an integer from 1 to {MaxLimit}.";
            return false;
        }
        if (!TryCursor(http, parts, out after))
        {
            error = "cursor is not one this API gave out: pass the cursor of the previous page's Link header unchanged.";
            return false;
        }
        return true;
    }

    /// <summary>An optional <c>?limit=</c> from 1 to <paramref name="max"/>; false when present but not one (or given twice).</summary>
    public static bool TryLimit(HttpContext http, int fallback, int max, out int limit)
    {
        limit = fallback;
        if (!http.Request.Query.TryGetValue("limit", out var raw))
        {
            return true;
        }
        if (raw.Count != 1 || !int.TryParse(raw[0], NumberStyles.None, CultureInfo.InvariantCulture, out var given) || given < 1 || given > max)
        {
            return false;
        }
        limit = given;
        return true;
    }

    /// <summary>An optional <c>?cursor=</c> holding exactly <paramref name="parts"/> strings; false when malformed.</summary>
    public static bool TryCursor(HttpContext http, int parts, out string[]? keys)
    {
        keys = null;
        if (!http.Request.Query.TryGetValue("cursor", out var raw))
        {
            return true;
        }
        return raw.Count == 1 && raw[0] is { Length: > 0 and <= 2048 } text && TryDecode(text, parts, out keys);
    }

    /// <summary>An opaque cursor: base64url of a JSON array of strings.</summary>
    public static string Encode(params string[] keys) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(keys));

    private static bool TryDecode(string text, int parts, out string[]? keys)
    {
        keys = null;
        try
        {
            keys = JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(text));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
        // A key with a NUL could not be one this service wrote (no stored text holds one), and must not reach a query.
        return keys is not null && keys.Length == parts && keys.All(k => k is not null && !k.Contains('\0', StringComparison.Ordinal));
    }

    /// <summary>Announces the next page: the request's own path and query with <c>cursor</c> replaced.</summary>
    public static void SetNext(HttpContext http, string cursor)
    {
        var query = http.Request.Query.Where(q => q.Key != "cursor")
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new KeyValuePair<string, string?>("cursor", cursor));
        var url = new StringBuilder().Append(http.Request.PathBase).Append(http.Request.Path).Append(QueryString.Create(query));
        http.Response.Headers.Link = $"<{url}>; rel=\"next\"";
    }
}
