import { expect } from 'chai';
import { execFile } from 'node:child_process';

describe('example demo: npm run demo', function () {
  this.timeout(120_000);

  it('prints the dashboard\'s address, runs the sale and finds nothing oversold or lost', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'example/tools/demo.ts'],
        // Its own app, with a token it makes: a DEMO_URL or ADMIN_TOKEN of the caller's is not for this run.
        { env: { ...process.env, DEMO_URL: '', ADMIN_TOKEN: '' }, timeout: 100_000, maxBuffer: 4 * 2 ** 20 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(output).to.match(/Watch it on the dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    expect(output).to.include('No unit oversold, none lost.');
  });
});
