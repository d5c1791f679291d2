// A real S3-compatible server (s3rver) on a free port and a temporary directory, for tests.
// s3rver checks request signatures against its fixed key pair, S3RVER / S3RVER.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export class S3Server {
  static readonly credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  readonly endpoint: string;
  private readonly server: S3rver;
  private readonly dir: string;

  private constructor(server: S3rver, endpoint: string, dir: string) {
    this.server = server;
    this.endpoint = endpoint;
    this.dir = dir;
  }

  static async start(): Promise<S3Server> {
    const dir = mkdtempSync(join(tmpdir(), 'batuta-s3-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
    const { port } = await server.run();
    return new S3Server(server, `http://127.0.0.1:${port}`, dir);
  }

  /** The S3 settings a loader needs to reach this server. */
  get options(): { endpoint: string; region: string; credentials: typeof S3Server.credentials; forcePathStyle: true } {
    return { endpoint: this.endpoint, region: 'us-east-1', credentials: S3Server.credentials, forcePathStyle: true };
  }

  /** Creates the bucket if needed and uploads one object. */
  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    const client = new S3Client(this.options);
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
      });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } finally {
      client.destroy();
    }
  }

  async stop(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
