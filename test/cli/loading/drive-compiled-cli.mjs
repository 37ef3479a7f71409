// Runs the compiled CLI (functions/cli/dist/main.mjs) in this process, one command after another, and
// marks in the module log (VPC_GUARD_MODULE_LOG, written by record-modules.mjs) where each command
// ends, so that loading.test.ts can tell which chunks each one loaded. The live commands run with the
// CLI's own AWS clients against a stand-in endpoint (AWS_ENDPOINT_URL) for an account with no VPCs:
// STS answers who is calling, Organizations lists that one account, EC2 answers every call empty.
// Prints, as JSON on stdout, each command's exit code and what it wrote on stderr.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const CALLER = '111111111111';
const ROLE_TEMPLATE = 'arn:aws:iam::{accountId}:role/VpcGuardMember';

/** The commands, least to most: what each loads includes what the ones before it loaded. */
const STEPS = [
  ['help', ['--help']],
  ['offline scan', ['scan', '--format', 'json']],
  ['live scan', ['scan', '--live', '--regions', 'us-east-1', '--format', 'json']],
  [
    'live scan --org',
    ['scan', '--live', '--regions', 'us-east-1', '--org', '--role-arn', ROLE_TEMPLATE],
  ],
];

/** The stand-in endpoint's answer to one request (STS and EC2 speak query, Organizations JSON). */
function answer(target, body) {
  if (target === 'AWSOrganizationsV20161128.ListAccounts') {
    const accounts = [{ Id: CALLER, State: 'ACTIVE', Name: 'audit' }];
    return ['application/x-amz-json-1.1', JSON.stringify({ Accounts: accounts })];
  }
  const action = new URLSearchParams(body).get('Action');
  if (action === 'GetCallerIdentity') {
    return [
      'text/xml',
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        `<Arn>arn:aws:sts::${CALLER}:assumed-role/Audit/ci</Arn><UserId>AROAEXAMPLE:ci</UserId>` +
        `<Account>${CALLER}</Account></GetCallerIdentityResult>` +
        '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    ];
  }
  return [
    'text/xml',
    `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId></${action}Response>`,
  ];
}

const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const [type, text] = answer(request.headers['x-amz-target'], body);
    response.writeHead(200, { 'content-type': type }).end(text);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${server.address().port}`;

const log = process.env.VPC_GUARD_MODULE_LOG;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const { main } = await import(
  new URL('../../../functions/cli/dist/main.mjs', import.meta.url).href
);
const results = {};
for (const [name, argv] of STEPS) {
  const stderr = [];
  const context = {
    printer: { out: () => {}, err: (text) => stderr.push(text), stdoutIsTerminal: false },
    cwd: process.cwd(),
    repoRoot,
    env: process.env,
    version: '0.0.0',
    now: () => new Date('2026-11-20T10:00:00Z'),
  };
  const code = await main(argv, context);
  appendFileSync(log, `# ${name}\n`);
  results[name] = { code, stderr: stderr.join('') };
}
server.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
