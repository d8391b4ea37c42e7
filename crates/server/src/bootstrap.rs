//! First start: with an empty database, create the bootstrap admin and print
//! its API key once (also saved, mode 0600, for scripts).

use secrecy::ExposeSecret;
use steward_domain::user::{Email, FullName, UserService, Username};

use crate::config::Config;
use crate::secret_key::write_private;

pub async fn bootstrap_admin(users: &UserService, config: &Config) -> Result<(), String> {
    let username = Username::parse(&config.bootstrap_admin_username).map_err(|e| format!("bootstrap admin: {e}"))?;
    let email = Email::parse(&config.bootstrap_admin_email).map_err(|e| format!("bootstrap admin: {e}"))?;
    let name = FullName::parse("Bootstrap Admin").map_err(|e| e.to_string())?;
    let Some(done) = users.bootstrap_admin(username, email, name).await.map_err(|e| format!("bootstrap admin: {e}"))?
    else {
        return Ok(());
    };
    let key = done.api_key.expose_secret();
    let path = config.var_dir.join("bootstrap-admin.key");
    write_private(&path, key)?;
    let addr = config.listen;
    println!(
        "\nCreated the bootstrap admin {user} ({email}). Its API key, shown only now and saved to {path} (mode 0600):\n\n    {key}\n\nTry it:\n\n    grpcurl -plaintext -H \"authorization: Bearer $(cat {path})\" {addr} steward.v1.AuthService/WhoAmI\n",
        user = done.user.username,
        email = done.user.email,
        path = path.display(),
    );
    Ok(())
}
