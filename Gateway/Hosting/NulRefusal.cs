using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// No text of this service may hold a NUL character (PostgreSQL's <c>text</c> and <c>jsonb</c> cannot store one), so a
/// request carrying one is refused at the edge, 400 <c>invalid_request</c>, before any statement is sent: in the query
/// string (<see cref="UseNulRefusal"/>), in a string of a JSON body or of a hub invocation (<see cref="StringConverter"/>,
/// registered for both). Neither a path nor a header value can carry one (Kestrel refuses the request).
/// The database's own refusal (a data exception, see <c>DataExceptions</c>) is the fallback, not the rule: with
/// automatic preparation on, a statement refused at Bind costs the pool its connections.
/// </summary>
internal static class NulRefusal
{
    public const string Detail = "The request contains a NUL character (U+0000), which no field accepts.";

    public static IApplicationBuilder UseNulRefusal(this IApplicationBuilder app) => app.Use((http, next) =>
        HasNul(http.Request) ? throw new Refused() : next(http));

    private static bool HasNul(HttpRequest request)
    {
        // A path cannot hold one: Kestrel (and the test server) refuse to decode "%00" in it. "%00" is the only way a query
        // string carries a NUL (Kestrel refuses the raw byte); the query is parsed only then.
        if (request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) != true)
        {
            return false;
        }
        foreach (var (key, values) in request.Query)
        {
            if (key.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
            {
                return true;
            }
        }
        return false;
    }

    private sealed class Refused() : ProblemException(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, Detail);

    /// <summary>Reads strings as the built-in converter does, and refuses one that holds a NUL (also as a property name).</summary>
    public sealed class StringConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Checked(reader.GetString());

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Checked(reader.GetString())!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value);

        private static string? Checked(string? value) =>
            value is not null && value.Contains('\0', StringComparison.Ordinal) ? throw new Refused() : value;
    }
}
