/**
 * Imported first by every CLI: the AWS SDK's notice that its releases after January 2027
 * need Node.js 22 would otherwise precede the output of every command on Node.js 20. It
 * concerns upgrading the project (the README says so), not the command being run. Child
 * processes (the local worker) inherit the setting.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
