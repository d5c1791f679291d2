// S3 access through the AWS SDK, configured from options or the environment so that MinIO and
// other S3-compatible servers work: BATUTA_S3_ENDPOINT (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL),
// AWS_REGION (default us-east-1), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the SDK's usual chain).
// The SDK is imported on first use: it is large, and most runs never touch S3.
import type { S3Client } from '@aws-sdk/client-s3';
import { MlTasksError } from '../errors.js';

type Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
};

/** How to reach S3; every field falls back to the environment. */
export interface S3Options {
  /** e.g. `http://127.0.0.1:9000` for MinIO; unset = AWS. */
  endpoint?: string | undefined;
  region?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Path-style URLs (`endpoint/bucket/key`); default true when an endpoint is set, as MinIO needs. */
  forcePathStyle?: boolean | undefined;
}

/** The effective configuration: options first, then the environment. */
export function resolveS3Options(options: S3Options = {}, env: NodeJS.ProcessEnv = process.env): S3Options {
  const endpoint = options.endpoint ?? env.BATUTA_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const credentials =
    options.credentials ?? (accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined);
  return {
    ...(endpoint ? { endpoint } : {}),
    region,
    ...(credentials ? { credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
  };
}

function client(S3: Sdk['S3Client'], options: S3Options): S3Client {
  const resolved = resolveS3Options(options);
  return new S3({
    region: resolved.region as string,
    forcePathStyle: resolved.forcePathStyle ?? false,
    ...(resolved.endpoint ? { endpoint: resolved.endpoint } : {}),
    ...(resolved.credentials ? { credentials: resolved.credentials } : {}),
  });
}

function failure(action: string, bucket: string, key: string, error: unknown): MlTasksError {
  const name = (error as { name?: string }).name ?? 'Error';
  const message = (error as Error).message ?? String(error);
  const notFound = name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound';
  return new MlTasksError('LOAD_FAILED', `could not ${action} s3://${bucket}/${key}: ${name}: ${message}`, {
    cause: error,
    retryable: !notFound,
    details: { bucket, key },
  });
}

/** Reads a whole object. */
export async function getS3Object(bucket: string, key: string, options: S3Options = {}): Promise<Uint8Array> {
  const { S3Client, GetObjectCommand } = await loadSdk();
  const s3 = client(S3Client, options);
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error('empty response body');
    return await response.Body.transformToByteArray();
  } catch (error) {
    throw failure('read', bucket, key, error);
  } finally {
    s3.destroy();
  }
}

/** Writes a whole object. */
export async function putS3Object(
  bucket: string,
  key: string,
  body: Uint8Array | string,
  options: S3Options = {},
): Promise<void> {
  const { S3Client, PutObjectCommand } = await loadSdk();
  const s3 = client(S3Client, options);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } catch (error) {
    throw failure('write', bucket, key, error);
  } finally {
    s3.destroy();
  }
}
