FROM node:20-alpine AS build
WORKDIR /site
COPY package*.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG BASE_PATH=/
RUN npm run build -- --base=${BASE_PATH}

FROM nginx:1.27-alpine
COPY <<'EOF' /etc/nginx/conf.d/default.conf
server {
    listen       8080;
    server_name  _;
    root   /usr/share/nginx/html;
    location / {
        try_files $uri $uri/ /index.html;
    }
    location ~* \.(js|css|png|svg|woff2)$ {
        expires 30d;
        add_header Cache-Control "public, immutable";
    }
}
EOF
COPY --from=build /site/dist /usr/share/nginx/html
RUN chown -R nginx:nginx /usr/share/nginx/html /var/cache/nginx \
 && sed -i 's/^user/#user/' /etc/nginx/nginx.conf
USER nginx
EXPOSE 8080
