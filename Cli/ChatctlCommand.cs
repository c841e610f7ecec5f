using System.CommandLine;
using EventSourcedChat.Cli.Admin;
using EventSourcedChat.Cli.Analytics;
using EventSourcedChat.Cli.Api;
using EventSourcedChat.Cli.Audit;
using Npgsql;
using Spectre.Console;

namespace EventSourcedChat.Cli;

/// <summary>
/// The <c>chatctl</c> command tree. The API URL and token come from <c>--url</c>/<c>--token</c> or
/// <c>CHATCTL_URL</c>/<c>CHATCTL_TOKEN</c>; the database (analytics only) from <c>--db</c> or <c>CHATCTL_DB</c>.
/// </summary>
public static class ChatctlCommand
{
    public const int Failed = 1;
    public const int ChainBroken = 2;

    /// <param name="connect">Makes the API client for a URL and token (tests pass one bound to an in-process host).</param>
    public static RootCommand Build(IAnsiConsole console, TextWriter output, Func<string, string?, ChatApi>? connect = null)
    {
        connect ??= ChatApi.Create;
        var url = new Option<string>("--url")
        {
            Description = "API base URL (env CHATCTL_URL)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CHATCTL_URL") ?? "http://127.0.0.1:5080",
        };
        var token = new Option<string?>("--token")
        {
            Description = "bearer token (env CHATCTL_TOKEN)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CHATCTL_TOKEN"),
        };
        var db = new Option<string?>("--db")
        {
            Description = "PostgreSQL connection string, for analytics (env CHATCTL_DB)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CHATCTL_DB"),
        };
        var root = new RootCommand("chatctl: administer EventSourcedChat, export and verify audit trails, query analytics");
        root.Options.Add(url);
        root.Options.Add(token);
        root.Options.Add(db);

        ChatApi Api(ParseResult p) => connect(p.GetValue(url)!, p.GetValue(token));

        void Run(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
            command.SetAction(async (p, ct) =>
            {
                try
                {
                    return await action(p, ct);
                }
                catch (Exception e) when (e is CliException or HttpRequestException or NpgsqlException or IOException)
                {
                    console.MarkupLineInterpolated($"[red]error[/]: {e.Message}");
                    return Failed;
                }
            });

        // user create
        var email = new Option<string>("--email") { Required = true };
        var password = new Option<string>("--password") { Required = true };
        var displayName = new Option<string>("--name") { Required = true, Description = "display name" };
        var userCreate = new Command("create", "register a user; prints its id and a token") { email, password, displayName };
        Run(userCreate, async (p, ct) =>
        {
            await AccountCommands.CreateUserAsync(Api(p), console, p.GetValue(email)!, p.GetValue(password)!, p.GetValue(displayName)!, ct);
            return 0;
        });
        root.Subcommands.Add(new Command("user", "users") { userCreate });

        // workspace create | member
        var wsName = new Argument<string>("name");
        var wsCreate = new Command("create", "create a workspace; the token's user becomes its admin") { wsName };
        Run(wsCreate, async (p, ct) =>
        {
            await AccountCommands.CreateWorkspaceAsync(Api(p), console, p.GetValue(wsName)!, ct);
            return 0;
        });
        var wsId = new Argument<string>("workspaceId");
        var userId = new Argument<string>("userId");
        var role = new Option<string>("--role") { Description = "admin, member or auditor", DefaultValueFactory = _ => "member" };
        role.AcceptOnlyFromAmong("admin", "member", "auditor");
        var wsMember = new Command("member", "add a user to a workspace or change their role (grant or revoke auditor)") { wsId, userId, role };
        Run(wsMember, async (p, ct) =>
        {
            await AccountCommands.SetMemberAsync(Api(p), console, p.GetValue(wsId)!, p.GetValue(userId)!, p.GetValue(role)!, ct);
            return 0;
        });
        root.Subcommands.Add(new Command("workspace", "workspaces") { wsCreate, wsMember });

        // audit export | verify
        var channel = new Argument<string>("channelId");
        var outFile = new Option<FileInfo>("--out", "-o") { Required = true, Description = "NDJSON file to write" };
        var fromSeq = new Option<long>("--from-seq") { Description = "first seq to export", DefaultValueFactory = _ => 0 };
        var exportFiles = new Option<DirectoryInfo?>("--files") { Description = "also download the files the events list into this directory" };
        var export = new Command("export", "export a channel's raw events to an NDJSON file") { channel, outFile, fromSeq, exportFiles };
        Run(export, async (p, ct) =>
        {
            await AuditCommands.ExportAsync(Api(p), console, p.GetValue(channel)!, p.GetValue(outFile)!.FullName, p.GetValue(fromSeq), ct);
            if (p.GetValue(exportFiles) is { } dir)
            {
                await AuditFileCommands.DownloadAsync(Api(p), console, p.GetValue(outFile)!.FullName, dir.FullName, ct);
            }
            return 0;
        });
        var liveChannel = new Argument<string?>("channelId") { Arity = ArgumentArity.ZeroOrOne, Description = "verify the live channel on the server" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "verify an export file offline instead" };
        var fileChannel = new Option<string?>("--channel") { Description = "the file's channel id (default: read from its events)" };
        var verifyFiles = new Option<DirectoryInfo?>("--files") { Description = "with --file: also check the downloaded files in this directory against the SHA-256 in the chain" };
        var verify = new Command("verify", "recompute a channel's hash chain, live or from an export file") { liveChannel, file, fileChannel, verifyFiles };
        Run(verify, async (p, ct) =>
        {
            ChainResult result;
            if (p.GetValue(verifyFiles) is not null && p.GetValue(file) is null)
            {
                throw new CliException("--files checks the files of an export: give --file too");
            }
            if (p.GetValue(file) is { } f)
            {
                result = await AuditCommands.VerifyFileAsync(console, f.FullName, p.GetValue(fileChannel), ct);
                if (p.GetValue(verifyFiles) is { } filesDir && !(await AuditFileCommands.VerifyAsync(console, f.FullName, filesDir.FullName, ct)).Ok)
                {
                    return ChainBroken;
                }
            }
            else if (p.GetValue(liveChannel) is { } ch)
            {
                result = await AuditCommands.VerifyLiveAsync(Api(p), console, ch, ct);
            }
            else
            {
                throw new CliException("give a channel id, or --file with an export");
            }
            return result.Ok ? 0 : ChainBroken;
        });
        root.Subcommands.Add(new Command("audit", "auditors: export and verify channel history") { export, verify });

        // analytics views | query
        NpgsqlDataSource Db(ParseResult p) => NpgsqlDataSource.Create(
            p.GetValue(db) ?? throw new CliException("set --db or CHATCTL_DB to a PostgreSQL connection string"));
        var views = new Command("views", "list the analytics views");
        Run(views, async (p, ct) =>
        {
            await using var source = Db(p);
            foreach (var v in await AnalyticsCommands.ViewsAsync(source, ct))
            {
                await output.WriteLineAsync(v);
            }
            return 0;
        });
        var view = new Argument<string>("view") { Description = "e.g. messages_per_channel_day" };
        var format = new Option<OutputFormat>("--format") { DefaultValueFactory = _ => OutputFormat.Table, Description = "table or csv" };
        var workspace = new Option<string?>("--workspace") { Description = "only this workspace's rows" };
        var query = new Command("query", "print an analytics view as a table or CSV") { view, format, workspace };
        Run(query, async (p, ct) =>
        {
            await using var source = Db(p);
            await AnalyticsCommands.QueryAsync(source, console, output, p.GetValue(view)!, p.GetValue(workspace), p.GetValue(format), ct);
            return 0;
        });
        root.Subcommands.Add(new Command("analytics", "analysts: the read-only analytics views") { views, query });

        // status: the deployment at a glance, refreshed in place
        var interval = new Option<double>("--interval") { DefaultValueFactory = _ => 2, Description = "seconds between refreshes" };
        var refreshes = new Option<int?>("--refreshes") { Description = "stop after this many refreshes (0: print once); default: until Ctrl+C" };
        var overview = new Command("status", "operators: head of the log, projection and push lag and rates, live gateways and their connections") { interval, refreshes };
        Run(overview, async (p, ct) =>
        {
            await StatusCommand.RunAsync(Api(p), console, TimeSpan.FromSeconds(Math.Max(0.1, p.GetValue(interval))), p.GetValue(refreshes), ct);
            return 0;
        });
        root.Subcommands.Add(overview);

        // projections status | restart | rebuild
        var status = new Command("status", "each projection's (and the push worker's) state, owner, checkpoint, head and lag");
        Run(status, async (p, ct) =>
        {
            await ProjectionCommands.StatusAsync(Api(p), console, ct);
            return 0;
        });
        var projection = new Argument<string>("name");
        var restart = new Command("restart", "start a stopped or stuck projection (or push) again from its checkpoint, on the node that owns it") { projection };
        Run(restart, async (p, ct) =>
        {
            await ProjectionCommands.RestartAsync(Api(p), console, p.GetValue(projection)!, ct);
            return 0;
        });
        var noWait = new Option<bool>("--no-wait") { Description = "start the rebuild and return" };
        var rebuild = new Command("rebuild", "rebuild a projection without downtime, following its progress") { projection, noWait };
        Run(rebuild, async (p, ct) =>
        {
            await ProjectionCommands.RebuildAsync(Api(p), console, p.GetValue(projection)!, !p.GetValue(noWait), TimeSpan.FromMilliseconds(250), ct);
            return 0;
        });
        root.Subcommands.Add(new Command("projections", "operators: projection status, restarts and rebuilds") { status, restart, rebuild });
        return root;
    }
}
