using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>Times requests made while a dependency is down and prints them as a table (what, count, status, median, max).</summary>
internal sealed class Outage(ITestOutputHelper output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string What, HttpStatusCode Status, TimeSpan Took)> _requests = [];

    public void Log(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.00}s {what}");

    /// <summary>Sends, records the time it took, and answers the response.</summary>
    public async Task<HttpResponseMessage> TimeAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        var response = await send();
        await response.Content.LoadIntoBufferAsync();
        watch.Stop();
        lock (_requests)
        {
            _requests.Add((what, response.StatusCode, watch.Elapsed));
        }
        return response;
    }

    /// <summary>The request answers 503 <c>unavailable</c> problem+json with a Retry-After, within <paramref name="limit"/>.</summary>
    public async Task<JsonElement> UnavailableAsync(string what, Func<Task<HttpResponseMessage>> send, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var response = await TimeAsync(what, send);
        var took = watch.Elapsed;
        var problem = await Problems.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.True(response.Headers.RetryAfter is not null, $"{what}: no Retry-After");
        Assert.True(took < limit, $"{what} took {took.TotalMilliseconds:0} ms (limit {limit.TotalMilliseconds:0} ms)");
        return problem;
    }

    /// <summary>One line per kind of request: count, statuses, median and max time in milliseconds.</summary>
    public string Table()
    {
        lock (_requests)
        {
            var lines = new List<string> { "| request | count | status | median ms | max ms |", "|---|---|---|---|---|" };
            foreach (var group in _requests.GroupBy(r => r.What))
            {
                var times = group.Select(r => r.Took.TotalMilliseconds).Order().ToList();
                var statuses = string.Join(", ", group.Select(r => (int)r.Status).Distinct().Order());
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {group.Key} | {times.Count} | {statuses} | {times[times.Count / 2]:0.0} | {times[^1]:0.0} |"));
            }
            var table = string.Join('\n', lines);
            output.WriteLine(table);
            return table;
        }
    }
}
