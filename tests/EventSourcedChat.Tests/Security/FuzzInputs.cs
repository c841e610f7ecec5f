using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Tests.Security;

/// <summary>What the fuzzer sends: bad ids, texts, numbers and query values, and bad bodies generated per command.</summary>
internal static class FuzzInputs
{
    private static string Cut(string s) => SecurityTest.Cut(s);

    public static readonly Dictionary<string, int> CodeStatus = new()
    {
        [ErrorCodes.InvalidRequest] = 400, [ErrorCodes.MessageTooLong] = 400, [ErrorCodes.Unauthenticated] = 401,
        [ErrorCodes.Forbidden] = 403, [ErrorCodes.NotInChannel] = 403, [ErrorCodes.NotFound] = 404,
        [ErrorCodes.MethodNotAllowed] = 405, [ErrorCodes.Conflict] = 409, [ErrorCodes.NameTaken] = 409,
        [ErrorCodes.ChannelArchived] = 409, [ErrorCodes.PinLimitReached] = 409, [ErrorCodes.PayloadTooLarge] = 413, [ErrorCodes.QuotaExceeded] = 413,
        [ErrorCodes.WrongPassword] = 403, [ErrorCodes.ResetExpired] = 410,
        [ErrorCodes.InviteExpired] = 410, [ErrorCodes.InviteRevoked] = 410, [ErrorCodes.InviteUsedUp] = 410,
        [ErrorCodes.InviteEmailMismatch] = 403, [ErrorCodes.AlreadyMember] = 409,
        [ErrorCodes.LastAdmin] = 409, [ErrorCodes.AccountDeactivated] = 403,
        [ErrorCodes.UnsupportedMediaType] = 415,
        [ErrorCodes.RateLimited] = 429, [ErrorCodes.Stale] = 503, [ErrorCodes.Unavailable] = 503,
    };

    static FuzzInputs()
    {
        var documented = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)
            .Where(c => c != ErrorCodes.Internal);
        Assert.Equal(documented.Order(), CodeStatus.Keys.Order()); // every code has its status here, "internal" none
    }

    public static readonly string[] Injections =
    [
        "'; drop table es_events; --", "\" or 1=1 --", "' union select token_id from ws_revoked_tokens --", "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>", "${jndi:ldap://x/a}", "%s%s%n", "../../../etc/passwd", "{{7*7}}", "$1", "; select pg_sleep(5)",
    ];

    public static readonly string[] ControlText =
    [
        "\0", "a\0b", "\u0007bell", "\u001b[31mred", "\uFEFFbom", "\u202Eevil", "\ud800", "x\udc00y", "\r\n\t", "👍🏽\u200D", "\u0085\u2028", "  padded\t ",
    ];

    public static readonly string[] HugeText = [new string('a', 500_000), new string('é', 300_000)];

    public static readonly string[] NumberLiterals =
    [
        "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308", "1e309", "-1e308", "1.5",
        "\"NaN\"", "NaN", "Infinity", "\"1\"", "1e3", "-0", "00", "0x10",
    ];

    public static readonly string[] BadIds =
    [
        "0123456789abcdef0123456789abcdef", "x", "..", "%2e%2e", "' or 1=1 --", "%27%3B%20drop%20table", "ABCDEF0123456789ABCDEF0123456789",
        new string('f', 1000), "%F0%9F%91%8D", "%C3%28", "%FF", "-1", "null", "%3Cscript%3E",
    ];

    public static readonly string[] BadSeqs = ["-1", "0", "9223372036854775807", "99999999999999999999", "abc", "1e3", "1.5", "NaN", "%20"];

    public static readonly string[] BadEmoji = ["%20", "a%20b", "%01", "%7F", "%E2%80%A8", new string('x', 300), "%2F", "%25", "%C3%28", "%ED%A0%80", "%3Cscript%3E"];

    public static readonly string[] QueryValues =
    [
        "-1", "0", "9223372036854775807", "9223372036854775808", "1e309", "NaN", "1.5", "abc", "", "%00", "%C3%28", "%FF",
        "%27%20or%201%3D1%20--", "%3Cscript%3E", new string('9', 5000), "1&limit=2",
    ];

    /// <summary>Bodies by category: (category, label, bytes, content type).</summary>
    public static IEnumerable<(string Category, string Label, byte[] Body, string ContentType)> Bodies(Command e)
    {
        (string, string, byte[], string) Json(string category, string label, string json) => (category, label, Encoding.UTF8.GetBytes(json), "application/json");
        string With(string field, string literal)
        {
            var o = e.Valid();
            o[field] = JsonNode.Parse("\"__X__\"");
            return o.ToJsonString().Replace("\"__X__\"", literal, StringComparison.Ordinal);
        }
        foreach (var raw in new[] { "", "{", "}", "{\"a\":", "not json", "[]", "null", "\"s\"", "123", "true", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}", "\u0000", "{}{}" })
        {
            yield return Json("malformed JSON", raw, raw);
        }
        yield return Json("huge or deep", "deep array", new string('[', 10_000) + new string(']', 10_000));
        yield return Json("huge or deep", "deep object", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000));
        yield return Json("huge or deep", "2 MB field", $"{{\"x\":\"{new string('a', 2_000_000)}\"}}");
        yield return Json("huge or deep", "100k fields", "{" + string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"\"f{i}\":1")) + "}");
        yield return Json("missing fields", "all", "{}");
        var extra = e.Valid();
        extra["extra"] = 1;
        extra["__proto__"] = new JsonObject { ["admin"] = true };
        extra["role"] ??= "admin";
        yield return Json("extra fields", "extra, __proto__, role", extra.ToJsonString());
        var duplicate = e.Valid().ToJsonString();
        yield return Json("extra fields", "a field twice", duplicate.Insert(1, duplicate[1..^1] + ","));
        yield return ("content type", "text/plain", Encoding.UTF8.GetBytes(e.Valid().ToJsonString()), "text/plain");
        yield return ("content type", "form", "a=1"u8.ToArray(), "application/x-www-form-urlencoded");
        yield return ("content type", "json, utf-16", Encoding.Unicode.GetBytes(e.Valid().ToJsonString()), "application/json; charset=utf-16");
        foreach (var (name, kind) in e.Fields)
        {
            var without = e.Valid();
            without.Remove(name);
            yield return Json("missing fields", name, without.ToJsonString());
            foreach (var literal in new[] { "null", "[]", "[\"a\"]", "{}", "{\"$gt\":\"\"}" }.Concat(kind switch
            {
                Kind.Text => ["1", "-1.5e308", "true"],
                Kind.Flag => ["1", "\"true\"", "\"yes\""],
                Kind.Ids => ["\"a\"", "1", "[1]", "[null]", "[[]]", JsonSerializer.Serialize(Enumerable.Range(0, 10_000).Select(i => $"u{i}"))],
                _ => ["\"7\"", "true"],
            }))
            {
                yield return Json("wrong types", $"{name}={Cut(literal)}", With(name, literal));
            }
            yield return Json("huge or deep", $"{name} deep", With(name, new string('[', 10_000) + new string(']', 10_000)));
            foreach (var literal in kind == Kind.Number ? NumberLiterals : NumberLiterals.Take(6))
            {
                yield return Json("numeric edges", $"{name}={literal}", With(name, literal));
            }
            if (kind is Kind.Text or Kind.Ids)
            {
                Func<string, string> value = kind == Kind.Ids ? v => JsonSerializer.Serialize(new[] { v }) : v => JsonSerializer.Serialize(v);
                foreach (var s in Injections)
                {
                    yield return Json("injection", $"{name}={Cut(s)}", With(name, value(s)));
                }
                foreach (var s in ControlText)
                {
                    yield return Json("control chars and NUL", $"{name}={Cut(JsonSerializer.Serialize(s))}", With(name, value(s)));
                }
                foreach (var s in HugeText)
                {
                    yield return Json("huge or deep", $"{name} of {s.Length} chars", With(name, value(s)));
                }
            }
            var body = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).ToList();
            var at = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).AsSpan().IndexOf("__B__"u8);
            body.RemoveRange(at, 5);
            body.InsertRange(at, [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xC0, 0xAF]);
            yield return ("invalid UTF-8", name, [.. body], "application/json");
        }
    }
}
